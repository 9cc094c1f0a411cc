// Passkeys in the console: hands the options a page carries (data-options) to
// navigator.credentials.create() or .get(), and the authenticator's answer, as JSON with
// base64url fields, back to the page's form, which posts it as usual. No other script, no
// third-party code: the Content-Security-Policy allows this site's own files only.
"use strict";

(() => {
  const fromBase64url = (text) => {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    return Uint8Array.from(atob(padded), (ch) => ch.charCodeAt(0));
  };

  const toBase64url = (buffer) => {
    let raw = "";
    for (const byte of new Uint8Array(buffer)) raw += String.fromCharCode(byte);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };

  const descriptors = (list) => (list || []).map((c) => ({ ...c, id: fromBase64url(c.id) }));

  const creationOptions = (o) => ({
    ...o,
    challenge: fromBase64url(o.challenge),
    user: { ...o.user, id: fromBase64url(o.user.id) },
    excludeCredentials: descriptors(o.excludeCredentials),
  });

  const requestOptions = (o) => ({
    ...o,
    challenge: fromBase64url(o.challenge),
    allowCredentials: descriptors(o.allowCredentials),
  });

  const common = (credential) => ({
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment || null,
    clientExtensionResults: credential.getClientExtensionResults(),
  });

  const created = (credential) => ({
    ...common(credential),
    response: {
      clientDataJSON: toBase64url(credential.response.clientDataJSON),
      attestationObject: toBase64url(credential.response.attestationObject),
      transports: credential.response.getTransports ? credential.response.getTransports() : [],
    },
  });

  const asserted = (credential) => ({
    ...common(credential),
    response: {
      clientDataJSON: toBase64url(credential.response.clientDataJSON),
      authenticatorData: toBase64url(credential.response.authenticatorData),
      signature: toBase64url(credential.response.signature),
      userHandle: credential.response.userHandle
        ? toBase64url(credential.response.userHandle)
        : null,
    },
  });

  const problem = (error) => {
    if (error && error.name === "InvalidStateError") {
      return "This device already holds one of your passkeys. Use another device, or remove that passkey first.";
    }
    if (error && error.name === "NotAllowedError") {
      return "The passkey was not used: it was cancelled, or it took too long. Try again.";
    }
    if (error && error.name === "SecurityError") {
      return "This browser refuses passkeys for this address. Open the console at the address it is configured with.";
    }
    return "The passkey could not be used. Try again, or use another way to confirm it's you.";
  };

  const ceremony = async (form) => {
    const options = JSON.parse(form.dataset.options);
    if (form.dataset.passkey === "create") {
      const credential = await navigator.credentials.create({ publicKey: creationOptions(options) });
      return created(credential);
    }
    const credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
    return asserted(credential);
  };

  for (const form of document.querySelectorAll("form[data-passkey]")) {
    const status = form.querySelector("[data-passkey-status]");
    const say = (text) => {
      status.textContent = text;
      status.hidden = false;
    };
    form.addEventListener("submit", async (event) => {
      const answer = form.elements.namedItem("credential");
      if (answer.value) return; // the answer is in: let the form go
      event.preventDefault();
      const name = form.elements.namedItem("name");
      if (name && !name.value.trim()) {
        say("Give the passkey a name first.");
        name.focus();
        return;
      }
      if (!window.PublicKeyCredential || !navigator.credentials || !window.isSecureContext) {
        say("This browser cannot use passkeys on this page: it needs https (or localhost) and a browser that supports passkeys.");
        return;
      }
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      status.hidden = true;
      try {
        answer.value = JSON.stringify(await ceremony(form));
        form.submit();
      } catch (error) {
        say(problem(error));
        button.disabled = false;
      }
    });
  }
})();
