// The site header of every page (the server puts the same markup in each, templates/header.html):
// on narrow screens its links fold behind a Menu button; its account slot shows who is signed in
// and Sign out (or Sign in). The slot has its place and height before anything loads, so nothing
// moves when the user appears.
import { restoreSession, signOut } from "./auth.js";
import { el } from "./ui.js";

const header = document.querySelector(".site-header");
const button = header?.querySelector(".menu-button");
const menu = header?.querySelector(".site-menu");
const account = document.getElementById("account");

function setOpen(open) {
  button.setAttribute("aria-expanded", String(open));
  header.classList.toggle("menu-open", open);
}

if (header && button && menu) {
  // Without this script the links simply show (and wrap); with it, a phone folds them.
  header.classList.add("has-menu");
  button.hidden = false;
  button.addEventListener("click", () => setOpen(button.getAttribute("aria-expanded") !== "true"));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && header.classList.contains("menu-open")) {
      setOpen(false);
      button.focus();
    }
  });
  document.addEventListener("click", (event) => {
    if (header.classList.contains("menu-open") && !header.contains(event.target)) setOpen(false);
  });
}

function showAccount(state) {
  if (!account) return;
  const onSignInPage = location.pathname.endsWith("/signin.html");
  if (state.user) {
    const label = state.user.email;
    account.replaceChildren(
      el("span", { class: "account-email", title: label }, label),
      state.user.admin ? el("span", { class: "badge" }, "admin") : null,
      el("button", { type: "button", class: "btn btn-small", onclick: () => signOut() }, "Sign out"),
    );
  } else if (state.mode === "cognito" && !onSignInPage) {
    const here = location.pathname.split("/").pop() + location.search;
    const next = here && /^[a-z]+\.html/.test(here) ? `?${new URLSearchParams({ next: here })}` : "";
    account.replaceChildren(el("a", { class: "btn btn-small", href: `signin.html${next}` }, "Sign in"));
  }
}

restoreSession().then(showAccount, () => {});
