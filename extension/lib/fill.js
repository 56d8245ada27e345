// fillStep runs inside the sign-in page (chrome.scripting.executeScript). It must be
// self-contained: no imports, no closure. It types one value into the field of the current step
// and submits, but only when the page's origin is exactly the expected authority origin.
// Without a secret it fills the user name, or answers "secret-needed" on the secret's step
// (the service worker then reads the credentials and calls it again with the secret).
export function fillStep(expectedOrigin, upn, secret, kind) {
  if (location.origin !== expectedOrigin) return "refused: wrong origin";
  const visible = (el) => el && !el.disabled && el.offsetParent !== null && el.type !== "hidden";
  const pick = (selectors) => {
    for (const s of selectors) {
      const el = document.querySelector(s);
      if (visible(el)) return el;
    }
    return null;
  };
  const type = (el, value) => {
    el.focus();
    el.value = value;
    el.dispatchEvent(new Event("input", { bubbles: true }));
    el.dispatchEvent(new Event("change", { bubbles: true }));
  };
  const submit = (el) => {
    const button = pick(['#idSIButton9', 'input[type="submit"]', 'button[type="submit"]']);
    if (button) button.click();
    else if (el.form) el.form.requestSubmit();
  };
  const tapFields = ['input[name="accessPass"]', 'input[name="accesspass"]', 'input[name="tap"]'];
  const passwordFields = ['input[name="passwd"]', 'input[type="password"]'];
  if (secret === null || secret === undefined) {
    if (pick([...tapFields, ...passwordFields])) return "secret-needed";
  }
  const secretField = !secret ? null : kind === "tap"
    ? pick([...tapFields, 'input[name="passwd"]'])
    : pick(passwordFields);
  if (secretField) {
    const shown = document.querySelector('#displayName, [data-testid="upn"], .identity, #upn');
    if (shown && shown.textContent && !shown.textContent.toLowerCase().includes(upn.toLowerCase())) {
      return "refused: another account";
    }
    type(secretField, secret);
    submit(secretField);
    return "secret";
  }
  const user = pick(['input[name="loginfmt"]', 'input[name="login"]', 'input[type="email"]']);
  if (user) {
    type(user, upn);
    submit(user);
    return "username";
  }
  return "nothing";
}
