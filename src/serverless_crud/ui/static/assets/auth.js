// Sign-in with the user pool, for every page: the API answers /records* only with an ID token.
//
// Sign-in is Cognito's InitiateAuth with USER_PASSWORD_AUTH (the password goes over HTTPS to Cognito
// only; see docs/decisions.md on SRP), called with fetch at the endpoint the function's /config.json
// names: Cognito's regional endpoint on AWS, the local AWS endpoint under `serverless-crud serve`.
// Tokens are kept as current guidance for browser apps has it: the ID and access tokens in memory
// only (this page's script; never in storage), the refresh token in sessionStorage (this origin and
// this tab only, gone when the tab closes), so that moving between pages keeps the session; other
// origins cannot read either, and the pages' Content-Security-Policy (scripts from this origin only,
// no inline script) is what keeps other scripts from them. Tokens are refreshed five minutes before
// they expire; when the refresh token is refused the session has ended and the sign-in page says so.
import { API_BASE } from "./config.js";

const REFRESH_KEY = "serverless-crud.refresh-token";
const EARLY_MS = 5 * 60 * 1000;
const base = new URL(API_BASE ? API_BASE.replace(/\/?$/, "/") : ".", document.baseURI);
const pages = new URL(".", document.baseURI);

let configPromise = null;
let sessionPromise = null;
let tokens = null;
let timer = null;

/** The API's sign-in configuration: {auth_mode, user_pool_id, client_id, cognito_endpoint}. */
export function authConfig() {
  configPromise ??= fetch(new URL("config.json", base), { headers: { Accept: "application/json" } })
    .then((response) => (response.ok ? response.json() : { auth_mode: "none" }))
    .catch(() => ({ auth_mode: "none" }));
  return configPromise;
}

/** A sign-in failure: `code` is Cognito's error name (NotAuthorizedException...). */
export class SignInError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "SignInError";
    this.code = code;
  }
}

async function cognito(target, body) {
  const config = await authConfig();
  let response;
  try {
    response = await fetch(config.cognito_endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": `AWSCognitoIdentityProviderService.${target}`,
      },
      body: JSON.stringify(body),
    });
  } catch {
    throw new SignInError("Network", "Could not reach the sign-in service. Check your connection and try again.");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new SignInError(String(data.__type || "").split("#").pop(), data.message || "Sign-in failed.");
  }
  return data;
}

/** The claims of a JWT (not verified here: the API's authorizer does that). */
export function claimsOf(token) {
  const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  const text = new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0)));
  return JSON.parse(text);
}

const EMAIL_KEY = "serverless-crud.email";

/** The email this tab last signed in with (to fill in the sign-in form again), or "". */
export function lastEmail() {
  return sessionStorage.getItem(EMAIL_KEY) || "";
}

function keep(result) {
  tokens = { id: result.IdToken, access: result.AccessToken, claims: claimsOf(result.IdToken) };
  if (result.RefreshToken) sessionStorage.setItem(REFRESH_KEY, result.RefreshToken);
  clearTimeout(timer);
  const due = tokens.claims.exp * 1000 - Date.now() - EARLY_MS;
  timer = setTimeout(() => refresh().catch(() => sessionEnded()), Math.max(due, 10_000));
}

/** Sign in with email and password; rejects with a SignInError. */
export async function signIn(email, password) {
  const config = await authConfig();
  const data = await cognito("InitiateAuth", {
    ClientId: config.client_id,
    AuthFlow: "USER_PASSWORD_AUTH",
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  if (!data.AuthenticationResult) {
    throw new SignInError(data.ChallengeName, "Your account needs another step first (ask your administrator).");
  }
  keep(data.AuthenticationResult);
  sessionStorage.setItem(EMAIL_KEY, email);
}

/** New ID and access tokens from the refresh token; rejects when the session is over. */
export async function refresh() {
  const token = sessionStorage.getItem(REFRESH_KEY);
  if (!token) throw new SignInError("NoSession", "Not signed in.");
  const config = await authConfig();
  const data = await cognito("InitiateAuth", {
    ClientId: config.client_id,
    AuthFlow: "REFRESH_TOKEN_AUTH",
    AuthParameters: { REFRESH_TOKEN: token },
  });
  keep(data.AuthenticationResult);
}

/** The signed-in user as {email, admin}, from the ID token. */
export function currentUser() {
  if (!tokens) return null;
  const groups = tokens.claims["cognito:groups"] || [];
  return { email: String(tokens.claims.email || "").toLowerCase(), admin: groups.includes("admin") };
}

/** The ID token for the Authorization header (null in the open mode). */
export function idToken() {
  return tokens?.id ?? null;
}

function signInUrl(params = {}) {
  const here = location.pathname.split("/").pop() + location.search;
  const next = here && !here.startsWith("signin.html") ? { next: here } : {};
  return new URL(`signin.html?${new URLSearchParams({ ...params, ...next })}`, pages);
}

/** The session has ended (the refresh token was refused or revoked): say so on the sign-in page. */
export function sessionEnded() {
  sessionStorage.removeItem(REFRESH_KEY);
  tokens = null;
  location.assign(signInUrl({ ended: "1" }));
  return new Promise(() => {}); // the page is going away
}

/** Sign out: forget the tokens, end the user's sessions at Cognito (GlobalSignOut: no refresh token
 * of theirs works any more), show the sign-in page. */
export async function signOut() {
  const access = tokens?.access;
  sessionStorage.removeItem(REFRESH_KEY);
  tokens = null;
  if (access) await cognito("GlobalSignOut", { AccessToken: access }).catch(() => {});
  location.assign(new URL("signin.html?signed-out=1", pages));
}

let restorePromise = null;

/** Who is signed in, without sending anyone to the sign-in page: {mode: "open" | "cognito", user}
 * (user null when nobody is signed in; `ended` when a session this tab had was refused). */
export function restoreSession() {
  restorePromise ??= (async () => {
    const config = await authConfig();
    if (config.auth_mode !== "cognito") return { mode: "open", user: null, ended: false };
    if (!tokens) {
      const hadSession = Boolean(sessionStorage.getItem(REFRESH_KEY));
      if (!hadSession) return { mode: "cognito", user: null, ended: false };
      try {
        await refresh();
      } catch (error) {
        if (error.code === "Network") throw error;
        sessionStorage.removeItem(REFRESH_KEY);
        return { mode: "cognito", user: null, ended: true };
      }
    }
    return { mode: "cognito", user: currentUser(), ended: false };
  })();
  return restorePromise;
}

/** The signed-in user ({email, admin}), null in the open mode; without a session, the sign-in page. */
export function session() {
  sessionPromise ??= restoreSession().then((state) => {
    if (state.mode === "open") return null;
    if (state.user) return state.user;
    location.assign(signInUrl(state.ended ? { ended: "1" } : {}));
    return new Promise(() => {}); // the page is going away
  });
  return sessionPromise;
}
