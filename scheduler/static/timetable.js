// The timetable grid: EventCalendar (vendored) fed by timetable.json; a drop is checked by
// move/check before move saves it with the meeting's version, like the meeting form does.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("timetable-config").textContent);
  const S = config.strings;
  const element = document.getElementById("timetable");
  const panel = document.getElementById("move-panel");
  if (!element || !config.day) return;
  if (window.matchMedia("(max-width: 700px)").matches) return; // phones get the day list

  let calendar = null;
  let pending = null; // the drop waiting for a decision
  let data = {resources: [], events: []};

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, (_, name) => (name in values ? values[name] : ""));
  }
  function escape(text) {
    const div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }
  function pad(n) { return String(n).padStart(2, "0"); }
  function wall(date) {
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
  }
  function clock(text) { return text.slice(11, 16); }

  function dataUrl() {
    const params = new URLSearchParams({...config.filters, day: config.day, mode: config.mode});
    if (document.getElementById("show-cancelled")?.checked) params.set("cancelled", "1");
    return `${config.data_url}?${params}`;
  }

  async function load() {
    const response = await fetch(dataUrl(), {headers: {Accept: "application/json"}});
    data = await response.json();
    if (!calendar) {
      calendar = EventCalendar.create(element, options());
    } else {
      calendar.setOption("resources", data.resources);
      calendar.setOption("events", data.events);
    }
    element.dataset.loaded = String(Date.now());
    element.classList.toggle("empty", !data.events.some((e) => e.extendedProps.kind === "meeting"));
  }

  function range() {
    let first = 8 * 60, last = 19 * 60;
    for (const e of data.events) {
      const [sh, sm] = clock(e.start).split(":").map(Number);
      const [eh, em] = clock(e.end).split(":").map(Number);
      if (e.start.slice(0, 10) === config.day) first = Math.min(first, sh * 60 + sm);
      if (e.end.slice(0, 10) === config.day) last = Math.max(last, eh * 60 + em);
    }
    const hh = (m) => `${pad(Math.floor(m / 60))}:00`;
    return {slotMinTime: hh(Math.max(0, first - 60)), slotMaxTime: hh(Math.min(24 * 60, last + 60))};
  }

  function options() {
    return {
      view: "resourceTimeGridDay",
      locale: document.documentElement.lang || "en",
      date: config.day,
      headerToolbar: {start: "", center: "", end: ""},
      allDaySlot: false,
      ...range(),
      slotDuration: "00:15",
      slotLabelInterval: "01:00",
      slotLabelFormat: {hour: "2-digit", minute: "2-digit", hour12: false},
      eventTimeFormat: {hour: "2-digit", minute: "2-digit", hour12: false},
      slotHeight: 18,
      scrollTime: "08:00",
      snapDuration: "00:05",
      nowIndicator: false,
      editable: config.editable,
      eventStartEditable: config.editable,
      eventDurationEditable: config.editable,
      resources: data.resources,
      events: data.events,
      resourceLabelContent: (info) => {
        const venue = info.resource.extendedProps.venue;
        return {html: (venue ? `<span class="column-group">${escape(venue)}</span>` : "") + `<span class="column-title">${escape(info.resource.title)}</span>`};
      },
      eventContent: (info) => eventHtml(info.event, info.timeText),
      eventClick: (info) => {
        const url = info.event.extendedProps.url;
        if (url && !info.jsEvent.defaultPrevented) window.location.href = url;
      },
      eventDrop: (info) => dropped(info, info.newResource ? info.newResource.id : null),
      eventResize: (info) => dropped(info, null),
      eventDidMount: (info) => {
        info.el.dataset.meeting = info.event.extendedProps.key || "";
        if (info.event.extendedProps.kind === "meeting") info.el.title = blockTitle(info.event);
      },
    };
  }

  function blockTitle(event) {
    const p = event.extendedProps;
    return [event.title, p.where, p.people.join(", "), ...p.conflicts.map((c) => `${c.label}: ${c.message}`)].filter(Boolean).join("\n");
  }

  function eventHtml(event, timeText) {
    const p = event.extendedProps;
    if (p.kind === "travel") {
      return {html: `<span class="travel-text">${escape(event.title)}</span>`};
    }
    const marks = p.conflicts.map((c) => `<span class="mark sev-${c.severity}" title="${escape(c.message)}">${c.severity === "error" ? "✕" : "!"} ${escape(c.label)}</span>`).join(" ");
    const status = p.status !== "confirmed" ? ` <span class="status">${escape(S[p.status] || p.status)}</span>` : "";
    return {html: `<span class="time">${escape(timeText)}</span>${status}<a class="title" draggable="false" href="${escape(p.url)}" title="${escape(S.open_form)}">${escape(event.title)}</a><span class="where">${escape(p.where)}</span>${p.conflicts.length ? `<span class="marks">${marks}</span>` : ""}`};
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-CSRFToken": config.csrf_token, Accept: "application/json"},
      body: JSON.stringify(body),
    });
    let answer = {};
    try { answer = await response.json(); } catch (e) { answer = {error: {message: response.statusText}}; }
    return {status: response.status, answer};
  }

  function show(html, kind) {
    panel.hidden = false;
    panel.className = `move-panel ${kind || ""}`;
    panel.innerHTML = html;
  }
  function conflictList(conflicts) {
    return `<ul class="conflicts">${conflicts.map((c) => `<li class="sev-${c.severity}"><strong>${escape(c.label)}</strong> (${escape(S[c.severity] || c.severity)}): ${escape(c.message)}</li>`).join("")}</ul>`;
  }

  async function dropped(info, resource) {
    const event = info.event;
    const key = event.extendedProps.key;
    if (config.mode === "person" && resource && info.oldResource && resource !== info.oldResource.id) {
      info.revert();
      show(escape(S.person_column), "warn");
      return;
    }
    const move = {start: wall(event.start), end: wall(event.end), resource: config.mode === "room" ? resource : null};
    pending = {info, key, move, version: event.extendedProps.version, title: event.title};
    show(escape(S.checking));
    const {status, answer} = await post(`${config.move_url}${key}/move/check`, move);
    if (status !== 200) return failed(answer);
    if (answer.errors) return askToConfirm(answer);
    return save({});
  }

  function askToConfirm(answer) {
    pending.signature = answer.signature;
    const el = element.querySelector(`[data-meeting="${CSS.escape(pending.key)}"]`);
    if (el) el.classList.add("would-conflict");
    show(`<p><strong>${escape(S.conflicts_title)}</strong></p>${conflictList(answer.conflicts)}
      <form class="confirm-move"><label>${escape(S.reason)}<textarea name="reason" rows="2" required></textarea></label>
      <p class="buttons"><button type="submit" class="danger">${escape(S.save_anyway)}</button> <button type="button" class="put-back">${escape(S.put_back)}</button></p></form>`, "error");
    const form = panel.querySelector("form");
    form.reason.focus();
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const reason = form.reason.value.trim();
      if (!reason) { form.reason.setCustomValidity(S.reason_needed); form.reportValidity(); return; }
      save({confirmed: pending.signature, reason});
    });
    panel.querySelector(".put-back").addEventListener("click", () => {
      pending.info.revert();
      pending = null;
      panel.hidden = true;
    });
  }

  async function save(extra) {
    show(escape(S.saving));
    const move = pending.move;
    const {status, answer} = await post(`${config.move_url}${pending.key}/move`, {...move, version: pending.version, ...extra});
    if (status === 422 && answer.needs_confirmation) return askToConfirm(answer);
    if (status === 409 && answer.stale) {
      pending = null;
      show(escape(S.stale), "error");
      return load();
    }
    if (status !== 200) return failed(answer);
    const saved = pending;
    pending = null;
    await load();
    const warnings = answer.conflicts.filter((c) => c.severity !== "error");
    let html = `<p>${escape(format(saved.undoing ? S.undone : S.saved, {title: saved.title, start: clock(answer.meeting.start), end: clock(answer.meeting.end)}))}`;
    if (!saved.undoing) html += ` <button type="button" class="undo">${escape(S.undo)}</button>`;
    html += "</p>";
    if (warnings.length) html += `<p>${escape(format(S.saved_warnings, {count: warnings.length}))}</p>${conflictList(warnings)}`;
    show(html, "ok");
    const undo = panel.querySelector(".undo");
    if (undo) {
      undo.focus();
      undo.addEventListener("click", () => undoMove(saved.title, answer));
    }
  }

  async function undoMove(title, answer) {
    const before = answer.before;
    pending = {key: answer.meeting.key, title, version: answer.meeting.version, undoing: true,
      move: {start: before.start, end: before.end, resource: config.mode === "room" ? before.resource : null},
      info: {revert: () => load()}};
    const {status, answer: check} = await post(`${config.move_url}${pending.key}/move/check`, pending.move);
    if (status !== 200) return failed(check);
    if (check.errors) return askToConfirm(check);
    return save({});
  }

  function failed(answer) {
    if (pending && pending.info) pending.info.revert();
    pending = null;
    const error = answer.error || {};
    show(`${escape(S.failed)} ${escape(error.field ? `${error.field}: ` : "")}${escape(error.message || "")}`, "error");
  }

  document.getElementById("show-cancelled")?.addEventListener("change", load);
  load();
})();
