// The sign-in page: email and password against the user pool (auth.js), then back to the page that
// sent the user here. Also the page that says a session has ended, or that the user signed out.
import { authConfig, SignInError, signIn } from "./auth.js";
import { el, errorBox, query, show } from "./ui.js";

const form = document.getElementById("signin");
const notice = document.getElementById("notice");
const emailInput = document.getElementById("signin-email");
const passwordInput = document.getElementById("signin-password");

/** Where to go after signing in: a page of this UI only (never another site). */
function next() {
  const wanted = query.get("next") || "";
  return /^(?:[a-z]+\.html)?(?:\?[^#]*)?$/.test(wanted) && wanted ? wanted : "./";
}

function message(title, text, kind = "info") {
  return el("div", { class: `alert alert-${kind}`, role: kind === "error" ? "alert" : "status" }, el("p", { class: "alert-title" }, title), el("p", {}, text));
}

async function main() {
  const config = await authConfig();
  if (config.auth_mode !== "cognito") {
    form.hidden = true;
    show(notice, message("Sign-in is off", "This API is open: no sign-in is needed."), el("p", {}, el("a", { href: "./" }, "Go to the records")));
    return;
  }
  if (query.get("ended")) {
    document.title = "Session ended · serverless-crud";
    document.getElementById("signin-title").textContent = "Your session has ended";
    show(notice, message("Please sign in again", "You were signed out because your session expired or was ended elsewhere. Nothing on the server changed."));
  } else if (query.get("signed-out")) {
    show(notice, message("You have signed out", "Sign in again to see your records."));
  }
  emailInput.focus();
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

main();
