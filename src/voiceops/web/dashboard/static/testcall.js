// voiceops console: the test-call page without page reloads. The page works without it.
"use strict";
(function () {
  function wire() {
    const form = document.getElementById("say-form");
    if (!form) return;
    const input = document.getElementById("say-text");
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const list = document.getElementById("said");
      const button = form.querySelector("button");
      const li = document.createElement("li");
      li.className = "ev ev-user_turn";
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = "You (caller)";
      const said = document.createElement("span");
      said.className = "said";
      said.textContent = input.value.trim() || "(silence: reminder)";
      li.append(who, " ", said);
      const waiting = document.createElement("li");
      waiting.className = "ev muted";
      waiting.textContent = "The agent is answering…";
      list.append(li, waiting);
      button.disabled = true;
      input.readOnly = true;
      try {
        const r = await fetch(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)),
          credentials: "same-origin" });
        const html = await r.text();
        const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("testcall");
        if (!fresh) throw new Error("no test call in the answer");
        document.getElementById("testcall").replaceWith(fresh);
        const next = document.getElementById("said");
        if (next && next.lastElementChild) next.lastElementChild.scrollIntoView({ block: "nearest" });
        wire();
        const again = document.getElementById("say-text");
        if (again) again.focus();
      } catch (err) {
        window.location.assign(window.location.pathname);  // show what the server holds
      }
    });
  }
  wire();
})();
