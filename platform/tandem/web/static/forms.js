// Small helps for the profile forms; every form works without them.
// 1. Suggest the browser's own time zone when the field is still empty.
// 2. Keep what was typed into a form when it is sent, in this tab only (sessionStorage, gone
//    when the tab closes), so answers sent after a session ended are put back after signing in
//    again. Saving, signing out or someone else signing in clears it.
(function () {
  "use strict";
  var zone = document.querySelector("[data-suggest-timezone]");
  if (zone && !zone.value && window.Intl) {
    var mine = Intl.DateTimeFormat().resolvedOptions().timeZone;
    var offered = document.querySelector('#timezone-list option[value="' + mine + '"]');
    if (offered) { zone.value = mine; }
  }

  var saved = document.querySelector("[data-saved-draft]");
  if (saved) { sessionStorage.removeItem("draft:" + saved.getAttribute("data-saved-draft")); }
  var signOut = document.querySelector('form[action="/logout"]');
  if (signOut) {
    signOut.addEventListener("submit", function () {
      Object.keys(sessionStorage).forEach(function (key) {
        if (key.indexOf("draft:") === 0) { sessionStorage.removeItem(key); }
      });
    });
  }

  var form = document.querySelector("form[data-draft]");
  if (!form) { return; }
  var key = "draft:" + form.getAttribute("data-draft");
  var owner = document.body.getAttribute("data-person") || "";

  function snapshot() {
    var fields = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "_csrf_token" || el.type === "submit") { return; }
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) { fields.push([el.name, el.value, true]); }
      } else {
        fields.push([el.name, el.value, false]);
      }
    });
    return fields;
  }

  var stored = null;
  try { stored = JSON.parse(sessionStorage.getItem(key) || "null"); } catch (e) { stored = null; }
  sessionStorage.removeItem(key);
  // The server showed the answers again itself (with what to fix), or someone else signed in.
  if (stored && stored.owner === owner && !document.querySelector("#problems")) {
    var byName = {};
    stored.fields.forEach(function (f) { (byName[f[0]] = byName[f[0]] || []).push(f); });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "_csrf_token" || el.type === "submit") { return; }
      var entries = byName[el.name] || [];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = entries.some(function (f) { return f[1] === el.value; });
      } else if (entries.length) {
        el.value = entries.shift()[1];
      }
    });
    var notice = document.querySelector("[data-draft-restored]");
    if (notice) { notice.hidden = false; }
  }

  // Kept on submit: if the answer is a sign-in page instead of a saved form, the next visit to
  // this form (after signing in) puts the answers back; a saved form clears it on the home page.
  form.addEventListener("submit", function () {
    sessionStorage.setItem(key, JSON.stringify({ owner: owner, fields: snapshot() }));
  });
})();
