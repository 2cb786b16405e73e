// The review page: one item at a time, keyboard first, every change POSTed at once (in order, retried
// while the server is unreachable). All text from the packet goes in through textContent, never as HTML.
(() => {
  "use strict";
  const data = JSON.parse(document.getElementById("review-data").textContent);
  const packet = data.packet;
  const reviewer = data.reviewer;
  const fields = packet.rubric.fields;
  const items = packet.items;
  const scores = data.state.scores;
  const notes = data.state.notes;
  const $ = (id) => document.getElementById(id);

  let index = Math.max(0, items.findIndex((item) => item.id === data.state.position));
  let cursor = 0;

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  // ---- scores and status -------------------------------------------------------------------------
  const rowsOf = (item) => item.responses.flatMap((r) => fields.map((field) => ({ label: r.label, field })));
  const valueOf = (item, label, fieldId) => ((scores[item.id] || {})[label] || {})[fieldId];
  function statusOf(item) {
    const rows = rowsOf(item);
    const done = rows.filter((row) => valueOf(item, row.label, row.field.id) !== undefined).length;
    return done === 0 ? "todo" : done === rows.length ? "done" : "partial";
  }

  // ---- saving ------------------------------------------------------------------------------------
  let chain = Promise.resolve();
  let pending = 0;
  let failure = null;
  function showSaveState(text) {
    const status = $("save-status");
    status.textContent = text || (failure ? `Not saved: ${failure}` : pending ? "Saving…" : "All changes saved");
    status.dataset.state = failure ? "error" : pending ? "saving" : "saved";
  }
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  async function send(url, body) {
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await fetch(url, {
          method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), keepalive: true,
        });
        if (response.ok) return;
        const problem = await response.json().catch(() => ({ error: response.statusText }));
        failure = problem.error || `HTTP ${response.status}`;
        return;
      } catch (err) {
        showSaveState("Server unreachable, retrying…");
        await sleep(Math.min(8000, 500 * 2 ** attempt));
      }
    }
  }
  function post(url, body) {
    pending++;
    failure = null;
    showSaveState();
    chain = chain.then(() => send(url, { reviewer, ...body })).finally(() => { pending--; showSaveState(); });
  }

  let noteTimer = null;
  function flushNote() {
    if (noteTimer === null) return;
    clearTimeout(noteTimer);
    noteTimer = null;
    const item = items[index];
    post("/api/note", { item_id: item.id, text: notes[item.id] || "" });
  }
  window.addEventListener("beforeunload", (event) => {
    flushNote();
    if (pending) event.preventDefault();
  });

  function setScore(item, label, field, value) {
    const byLabel = (scores[item.id] = scores[item.id] || {});
    const current = (byLabel[label] = byLabel[label] || {});
    if (value === null) delete current[field.id];
    else current[field.id] = value;
    post("/api/score", { item_id: item.id, label, field: field.id, value });
    syncChoices();
    renderNavigator();
    renderProgress();
  }

  // ---- rendering ---------------------------------------------------------------------------------
  const multi = items.some((item) => item.responses.length > 1);

  function renderItem() {
    const item = items[index];
    const article = $("item");
    article.replaceChildren();
    article.append(el("p", { class: "eyebrow" }, item.principle_name || "", el("code", { class: "item-id", text: item.id })),
      el("h1", { id: "item-title", text: `Item ${index + 1} of ${items.length}` }));

    const dialogue = el("div", { class: "dialogue" });
    item.turns.forEach((turn, t) => {
      const who = item.turns.length > 1 ? `Patient · turn ${t + 1} of ${item.turns.length}` : "Patient";
      dialogue.append(el("div", { class: "user-turn" }, el("p", { class: "who", text: who }), el("p", { class: "text", text: turn })));
      const replies = el("div", { class: `replies cols-${item.responses.length}` });
      for (const response of item.responses) {
        replies.append(el("div", { class: "reply" },
          el("p", { class: "who", text: multi ? `Response ${response.label}` : "Response" }),
          el("p", { class: "text", text: response.replies[t] || "(empty reply)" })));
      }
      dialogue.append(replies);
    });
    article.append(dialogue);

    const scoring = el("div", { class: `scoring cols-${item.responses.length}` });
    rowsOf(item).forEach((row, r) => {
      const groupName = `${row.label}-${row.field.id}`;
      const fieldset = el("fieldset", { class: "row", "data-row": String(r) },
        el("legend", { text: multi && fields.length === 1 ? `Response ${row.label}: ${row.field.name}` : row.field.name }));
      const choices = el("div", { class: `choices choices-${row.field.choices.length}` });
      for (const choice of row.field.choices) {
        const id = `c-${groupName}-${choice.value}`;
        const input = el("input", { type: "radio", id, name: groupName, value: String(choice.value), "data-choice": choice.value });
        input.addEventListener("change", () => { cursor = r; setScore(item, row.label, row.field, choice.value); markCursor(); });
        const title = choice.description ? `${choice.label}: ${choice.description}` : choice.label;
        const hint = choice.key === choice.label ? null : el("kbd", { text: choice.key });
        choices.append(el("span", { class: `choice value-${choice.value}` }, input,
          el("label", { for: id, title }, el("span", { text: choice.label }), hint)));
      }
      fieldset.append(choices);
      const described = row.field.choices.filter((c) => c.description);
      if (described.length > 2) {
        const [worst, best] = [described[0], described[described.length - 1]];
        fieldset.append(el("p", { class: "scale-hint", id: `hint-${groupName}`, text: `${worst.label} ${worst.description} · ${best.label} ${best.description}` }));
        fieldset.setAttribute("aria-describedby", `hint-${groupName}`);
      }
      fieldset.addEventListener("focusin", () => { cursor = r; markCursor(); });
      fieldset.addEventListener("click", () => { cursor = r; markCursor(); });
      let section = scoring.querySelector(`[data-label="${row.label}"]`);
      if (!section) {
        section = el("section", { class: "response-scores", "data-label": row.label, "aria-label": `Scores for Response ${row.label}` });
        if (multi && fields.length > 1) section.append(el("h2", { text: `Response ${row.label}` }));
        scoring.append(section);
      }
      section.append(fieldset);
    });
    article.append(scoring);

    $("note").value = notes[item.id] || "";
    $("prev").disabled = index === 0;
    $("next").disabled = index === items.length - 1;
    const rows = rowsOf(item);
    const firstOpen = rows.findIndex((row) => valueOf(item, row.label, row.field.id) === undefined);
    cursor = firstOpen < 0 ? 0 : firstOpen;
    syncChoices();
    markCursor();
    renderRubric(item);
  }

  function syncChoices() {
    const item = items[index];
    rowsOf(item).forEach((row, r) => {
      const value = valueOf(item, row.label, row.field.id);
      const fieldset = document.querySelector(`fieldset[data-row="${r}"]`);
      fieldset.classList.toggle("answered", value !== undefined);
      for (const input of fieldset.querySelectorAll("input")) input.checked = value !== undefined && input.value === String(value);
    });
  }

  function markCursor() {
    for (const fieldset of document.querySelectorAll("fieldset.row")) {
      fieldset.classList.toggle("active", fieldset.dataset.row === String(cursor));
    }
  }

  function renderRubric(item) {
    const body = $("rubric-body");
    body.replaceChildren();
    if (packet.kind === "coverage") {
      body.append(el("h3", { text: "Pass criteria" }), el("p", { class: "criteria", text: item.pass_criteria || "" }));
      if (item.principle_text) {
        body.append(el("h3", { text: `Principle: ${item.principle_name}` }), el("p", { class: "muted small", text: item.principle_text }));
      }
      return;
    }
    for (const field of fields) {
      const anchors = el("ul", { class: "anchors" });
      for (const choice of field.choices) {
        if (choice.description) anchors.append(el("li", {}, el("strong", { text: choice.label }), ` ${choice.description}`));
      }
      body.append(el("div", { class: "axis" }, el("h3", { text: field.name }), el("p", { class: "muted", text: field.question }), anchors));
    }
  }

  function verdictMark(item) {
    if (packet.kind !== "coverage" || statusOf(item) === "todo") return "";
    return item.responses.map((r) => {
      const value = valueOf(item, r.label, "verdict");
      return `${multi ? r.label : ""}${value === "pass" ? "✓" : value === "fail" ? "✗" : "·"}`;
    }).join(" ");
  }

  function renderNavigator() {
    const groups = new Map();
    items.forEach((item, i) => {
      const key = item.principle_name || "";
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(i);
    });
    const nav = $("navigator");
    nav.replaceChildren();
    for (const [name, members] of groups) {
      const done = members.filter((i) => statusOf(items[i]) === "done").length;
      const list = el("ol", { class: "chips" });
      for (const i of members) {
        const item = items[i];
        const status = statusOf(item);
        const mark = verdictMark(item);
        const button = el("button", {
          type: "button", class: `chip ${status}${i === index ? " current" : ""}`,
          "aria-label": `Item ${i + 1} (${item.id}): ${status === "todo" ? "not started" : status}${mark ? `, ${mark}` : ""}`,
          "aria-current": i === index ? "true" : "false",
        }, el("span", { class: "num", text: String(i + 1) }), mark ? el("span", { class: "mark", text: mark }) : null);
        button.addEventListener("click", () => go(i));
        list.append(el("li", {}, button));
      }
      const head = name ? el("p", { class: "group-head" }, el("span", { text: name }), el("span", { class: "count", text: `${done}/${members.length}` })) : null;
      nav.append(el("div", { class: "group" }, head, list));
    }
  }

  function renderProgress() {
    const done = items.filter((item) => statusOf(item) === "done").length;
    $("progress").value = done;
    $("progress-label").textContent = `${done} of ${items.length} items complete`;
  }

  // ---- navigation and keys -----------------------------------------------------------------------
  function go(target) {
    if (target < 0 || target >= items.length) return;
    flushNote();
    index = target;
    renderItem();
    renderNavigator();
    post("/api/position", { item_id: items[index].id });
    window.scrollTo(0, 0);
  }

  function nextUnfinished() {
    for (let step = 1; step <= items.length; step++) {
      const i = (index + step) % items.length;
      if (statusOf(items[i]) !== "done") return go(i);
    }
  }

  function chooseByKey(key) {
    const item = items[index];
    const rows = rowsOf(item);
    const row = rows[cursor];
    const choice = row.field.choices.find((c) => c.key === key);
    if (!choice) return false;
    setScore(item, row.label, row.field, choice.value);
    const next = rows.findIndex((candidate, r) => r > cursor && valueOf(item, candidate.label, candidate.field.id) === undefined);
    if (next >= 0) cursor = next;
    else if (cursor < rows.length - 1) cursor++;
    markCursor();
    return true;
  }

  function moveCursor(step) {
    const count = rowsOf(items[index]).length;
    cursor = Math.min(count - 1, Math.max(0, cursor + step));
    markCursor();
    document.querySelector(`fieldset[data-row="${cursor}"]`).scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    const typing = target.tagName === "TEXTAREA" || (target.tagName === "INPUT" && target.type === "text");
    if (typing) {
      if (event.key === "Escape") { target.blur(); flushNote(); }
      return;
    }
    if ($("help").open) return;
    const key = event.key;
    const item = items[index];
    let handled = true;
    if (key === "j") go(index + 1);
    else if (key === "k") go(index - 1);
    else if (key === "u") nextUnfinished();
    else if (key === "n") $("note").focus();
    else if (key === "?") $("help").showModal();
    else if (key === "ArrowDown" && !target.matches("input[type=radio]")) moveCursor(1);
    else if (key === "ArrowUp" && !target.matches("input[type=radio]")) moveCursor(-1);
    else if ((key === "a" || key === "b") && multi) {
      const r = rowsOf(item).findIndex((row) => row.label === key.toUpperCase());
      if (r >= 0) { cursor = r; markCursor(); }
    } else if (key === "Backspace" || key === "Delete") {
      const row = rowsOf(item)[cursor];
      setScore(item, row.label, row.field, null);
    } else handled = chooseByKey(key);
    if (handled) event.preventDefault();
  });

  $("note").addEventListener("input", (event) => {
    notes[items[index].id] = event.target.value;
    clearTimeout(noteTimer);
    noteTimer = setTimeout(flushNote, 400);
  });
  $("note").addEventListener("blur", flushNote);
  $("prev").addEventListener("click", () => go(index - 1));
  $("next").addEventListener("click", () => go(index + 1));
  $("next-todo").addEventListener("click", nextUnfinished);
  $("help-button").addEventListener("click", () => $("help").showModal());

  renderItem();
  renderNavigator();
  renderProgress();
  showSaveState();
})();
