// voiceops console: live transcript updates on a call page. Everything works without it.
"use strict";
(function () {
  const list = document.getElementById("timeline");
  if (!list) return;
  const call = list.dataset.call;
  let after = Number(list.dataset.after || 0);
  const labels = { user_turn: "Caller", turn_completed: "Agent", filler: "Agent (filler)",
    tool_call: "Tool call", tool_result: "Tool result", operator_said: "Operator" };
  let quiet = 0;
  async function poll() {
    try {
      const r = await fetch(`/dashboard/calls/${encodeURIComponent(call)}/events?after=${after}`,
        { headers: { accept: "application/json" }, credentials: "same-origin" });
      if (!r.ok) return;
      const events = await r.json();
      quiet = events.length ? 0 : quiet + 1;
      for (const e of events) {
        after = Math.max(after, e.id);
        const li = document.createElement("li");
        li.className = "ev ev-" + e.type;
        const who = document.createElement("span");
        who.className = "who";
        who.textContent = labels[e.type] || e.type.replaceAll("_", " ");
        const said = document.createElement("span");
        said.className = "said";
        said.textContent = e.content + (e.latency_ms != null && e.type === "turn_completed" ? `  (${e.latency_ms} ms)` : "");
        li.append(who, " ", said);
        list.append(li);
        if (e.type === "call_disconnected") quiet = 1000;
      }
    } catch (err) { /* the next poll tries again */ }
    if (quiet < 150) setTimeout(poll, 1000);
  }
  setTimeout(poll, 1000);
})();
