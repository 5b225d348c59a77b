// The sign-in page: email and password against the user pool (auth.js), then back to the page that
// sent the user here. Also the page that says a session has ended, or that the user signed out.
import { authConfig, lastEmail, SignInError, signIn } from "./auth.js";
import { el, errorBox, notice as noticeBox, query, show } from "./ui.js";

const form = document.getElementById("signin");
const notice = document.getElementById("notice");
const emailInput = document.getElementById("signin-email");
const passwordInput = document.getElementById("signin-password");

/** Where to go after signing in: a page of this UI only (never another site). */
function next() {
  const wanted = query.get("next") || "";
  return /^(?:[a-z]+\.html)?(?:\?[^#]*)?$/.test(wanted) && wanted ? wanted : "./";
}

async function main() {
  const config = await authConfig();
  if (config.auth_mode !== "cognito") {
    form.hidden = true;
    show(notice, noticeBox("Sign-in is off", "This app is open: no sign-in is needed.", { actions: [el("a", { class: "btn btn-primary", href: "./" }, "Go to the records")] }));
    return;
  }
  if (query.get("ended")) {
    document.title = "Session ended · serverless-crud";
    show(notice, noticeBox("Your session has ended", "It expired, or you signed out on another device. Sign in again to go on."));
  } else if (query.get("signed-out")) {
    document.title = "Signed out · serverless-crud";
    show(notice, noticeBox("You have signed out", "Sign in again whenever you like.", { kind: "success" }));
  }
  // The address this tab signed in with before: only the password is left to type.
  if (!emailInput.value) emailInput.value = lastEmail();
  (emailInput.value ? passwordInput : emailInput).focus();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const email = emailInput.value.trim().toLowerCase();
  const password = passwordInput.value;
  if (!email || !password) {
    show(notice, errorBox(new Error("Enter your email and your password."), { title: "Both fields are needed" }));
    (email ? passwordInput : emailInput).focus();
    return;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await signIn(email, password);
    location.assign(next());
  } catch (error) {
    const wrong = error instanceof SignInError && (error.code === "NotAuthorizedException" || error.code === "UserNotFoundException");
    const box = errorBox(wrong ? new Error("The email or the password is not right.") : error, { title: "Could not sign in" });
    show(notice, box);
    box.focus();
    passwordInput.value = "";
  } finally {
    button.disabled = false;
  }
});

// The button is enabled only now that submitting goes through the handler above: a form sent by the
// browser itself would carry the password to the server (the form's method keeps it out of the URL).
form.querySelector("button[type=submit]").disabled = false;

main();
