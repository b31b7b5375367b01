// voiceops console: the Live page follows calls without a reload (new calls, new turns,
// ended calls). The page works without it: a reload shows what the server holds.
// Everything a caller said goes in as text (textContent), never as HTML.
"use strict";
(function () {
  const list = document.getElementById("live");
  const card = document.getElementById("live-card");
  if (!list || !card) return;
  const prefix = list.dataset.prefix || "/dashboard";
  const status = document.getElementById("live-status");
  const none = document.getElementById("live-none");
  const EVERY = 1500;
  const MOST = 30000;
  const KEEP = 200;  // turns kept per call, as the server renders them
  let after = Number(list.dataset.after || 0);
  const seen = new Set();  // ids of the turns on the page
  const switched = new Map();  // call id -> id of the newest open or close applied
  let timer = null;
  let inflight = false;
  let failures = 0;
  let made = 0;

  for (const li of list.querySelectorAll("li[data-id]")) seen.add(Number(li.dataset.id));
  for (const li of list.children) switched.set(li.dataset.call, after);
  for (const turns of list.querySelectorAll(".live-turns")) turns.scrollTop = turns.scrollHeight;

  function say(text, warn) {
    status.textContent = text;
    status.classList.toggle("warn", Boolean(warn));
  }
  function cards() { return Array.from(list.children).filter((li) => li.dataset.call); }
  function cardOf(id) { return cards().find((li) => li.dataset.call === id) || null; }
  function tidy() { none.hidden = cards().length > 0; }

  function addCall(id, info) {
    if (cardOf(id)) return;
    const li = card.content.firstElementChild.cloneNode(true);
    li.id = "live-" + id;
    li.dataset.call = id;
    const link = li.querySelector(".live-head a");
    link.href = `${prefix}/calls/${encodeURIComponent(id)}`;
    link.textContent = id;
    li.querySelector(".live-from").textContent = info ? info.from : "unknown number";
    li.querySelector(".live-version").textContent = info && info.version != null ? String(info.version) : "?";
    li.querySelector(".live-since").textContent = info ? info.since : "";
    if (info && info.test) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = "test call";
      li.querySelector(".live-head").append(" ", badge);
    }
    const form = li.querySelector("form");
    if (form) {
      made += 1;
      form.action = `${prefix}/calls/${encodeURIComponent(id)}/say`;
      li.querySelector("input[name=text]").id = "say-new" + made;
      li.querySelector("label[for]").htmlFor = "say-new" + made;
    }
    list.prepend(li);
  }

  function addTurn(e) {
    if (seen.has(e.id)) return;
    const li = cardOf(e.call_id);
    if (!li) return;
    const turns = li.querySelector(".live-turns");
    const row = document.createElement("li");
    row.className = "ev ev-" + e.type;
    row.dataset.id = String(e.id);
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = e.who;
    const said = document.createElement("span");
    said.className = "said";
    said.textContent = e.text + (e.latency_ms != null ? `  (${e.latency_ms} ms)` : "");
    row.append(who, " ", said);
    const atEnd = turns.scrollHeight - turns.scrollTop - turns.clientHeight < 8;
    const later = Array.from(turns.children).find((t) => Number(t.dataset.id) > e.id);
    turns.insertBefore(row, later || null);
    seen.add(e.id);
    while (turns.children.length > KEEP) turns.firstElementChild.remove();  // stays seen
    if (atEnd) turns.scrollTop = turns.scrollHeight;  // follow the call unless scrolled back
  }

  function removeCall(li) {
    for (const row of li.querySelectorAll("li[data-id]")) seen.delete(Number(row.dataset.id));
    li.remove();
  }

  function apply(data) {
    for (const e of data.events) {
      if (e.kind === "turn") { addTurn(e); continue; }
      if (e.id <= (switched.get(e.call_id) || 0)) continue;
      switched.set(e.call_id, e.id);
      if (e.kind === "open") addCall(e.call_id, data.calls[e.call_id]);
      else { const li = cardOf(e.call_id); if (li) removeCall(li); }
    }
    for (const id of data.ended) {
      const li = cardOf(id);
      if (li) removeCall(li);
      switched.set(id, Math.max(switched.get(id) || 0, data.cursor));
    }
    after = Math.max(after, data.cursor);
    tidy();
  }

  function schedule(ms) {
    if (timer === null && !inflight && !document.hidden) timer = setTimeout(poll, ms);
  }

  async function poll() {
    timer = null;
    if (document.hidden) return;
    inflight = true;
    let next = EVERY;
    try {
      const shown = encodeURIComponent(cards().map((li) => li.dataset.call).join(","));
      const r = await fetch(`${prefix}/live/changes?after=${after}&shown=${shown}`,
        { headers: { accept: "application/json" }, credentials: "same-origin", cache: "no-store" });
      if (r.status === 401) {
        say("Updating stopped: you are signed out. Reload the page to sign in again.", true);
        inflight = false;
        return;
      }
      if (!r.ok) throw new Error("status " + r.status);
      const data = await r.json();
      apply(data);
      failures = 0;
      say("");
      if (data.more) next = 0;
    } catch (err) {
      failures += 1;
      next = Math.min(EVERY * 2 ** failures, MOST);
      say(`Updating paused: the server is not answering. Trying again in ${Math.round(next / 1000)} s.`, true);
    }
    inflight = false;
    schedule(next);
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { schedule(0); return; }
    if (timer !== null) { clearTimeout(timer); timer = null; }
  });

  list.addEventListener("submit", async function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("live-say")) return;
    event.preventDefault();
    const input = form.querySelector("input[name=text]");
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const r = await fetch(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)),
        headers: { accept: "application/json" }, credentials: "same-origin" });
      if (!r.ok) throw new Error("status " + r.status);
      input.value = "";
      form.querySelector("input[name=end_call]").checked = false;
      say("Sent.");
    } catch (err) {
      say("Not sent: the server did not take it. Your text is still in the box.", true);
    }
    button.disabled = false;
    input.focus();
  });

  schedule(EVERY);
})();
