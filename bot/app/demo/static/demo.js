// The demo page: shows what the bot sent to the stand-in Slack, and sends what a person does to the bot
// through the demo server. Text is set with textContent; the only HTML inserted is the server's rendering
// of mrkdwn (`html` fields), which escapes everything the text holds before adding its own tags.
"use strict";

const view = {
  people: [],
  channelNames: {},
  person: new URLSearchParams(location.search).get("as") || localStorage.getItem("allears-demo-person") || "U0ANA",
  channel: new URLSearchParams(location.search).get("channel") || "C0SUPPORT",
  expanded: new Set(),
  lastState: "",
  state: null,
  modalId: null,
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child) node.append(child);
  return node;
}

function mrkdwn(html, tag = "div") {
  const node = el(tag, { class: "mrkdwn" });
  node.innerHTML = html; // rendered and escaped by the server (bot/demo/mrkdwn.py)
  return node;
}

function text(object, tag = "div") {
  if (!object) return null;
  if (object.type === "mrkdwn") return mrkdwn(object.html, tag);
  return el(tag, { class: "plain", text: object.text });
}

async function api(path, body) {
  const response = await fetch("/demo/api/" + path, {
    method: body === undefined ? "GET" : "POST",
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `the demo server answered ${response.status}`);
  return data;
}

function toast(message) {
  const node = document.getElementById("toast");
  node.textContent = message;
  node.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (node.hidden = true), 6000);
}

async function act(path, body) {
  try {
    const answer = await api(path, { person: view.person, ...body });
    await refresh();
    return answer;
  } catch (error) {
    toast(error.message);
    return null;
  }
}

// --- Block Kit -----------------------------------------------------------------------------------------
function element(item, where) {
  if (item.type === "button") {
    const style = item.style ? ` ${item.style}` : "";
    return el("button", {
      type: "button", class: "btn" + style, "data-action": item.action_id, text: item.text.text,
      onclick: () => act("click", { ...where, action_id: item.action_id, value: item.value || "", type: "button" }),
    });
  }
  if (item.type === "static_select" || item.type === "overflow") {
    const placeholder = item.type === "overflow" ? "⋯" : (item.placeholder ? item.placeholder.text : "Choose");
    const select = el("select", { class: "menu", "data-action": item.action_id, "aria-label": placeholder },
      el("option", { value: "", text: placeholder, selected: true, disabled: true }),
      (item.options || []).map((option) => el("option", { value: option.value, text: option.text.text })));
    select.addEventListener("change", () =>
      act("click", { ...where, action_id: item.action_id, value: select.value, type: "static_select" }));
    return select;
  }
  if (item.type === "image") return el("img", { src: safeUrl(item.image_url), alt: item.alt_text || "" });
  if (item.type === "mrkdwn" || item.type === "plain_text") return text(item, "span");
  return el("span", { class: "muted", text: `[${item.type}]` });
}

function safeUrl(url) {
  return /^https?:\/\//.test(url || "") ? url : "";
}

function block(item, where) {
  switch (item.type) {
    case "section": {
      const main = el("div", { class: "section-main" }, text(item.text));
      if (item.fields) main.append(el("div", { class: "fields" }, item.fields.map((field) => text(field))));
      return el("div", { class: "block section" }, main, item.accessory ? element(item.accessory, where) : null);
    }
    case "context":
      return el("div", { class: "block context" }, item.elements.map((part) => element(part, where)));
    case "divider":
      return el("hr", { class: "divider" });
    case "header":
      return el("div", { class: "block header", text: item.text.text });
    case "image":
      return el("div", { class: "block block-image" },
        item.title ? text(item.title) : null, el("img", { src: safeUrl(item.image_url), alt: item.alt_text || "" }));
    case "actions":
      return el("div", { class: "block actions", "data-block": item.block_id || "" },
        item.elements.map((part) => element(part, { ...where, block_id: item.block_id })));
    default:
      return el("div", { class: "block muted", text: `[${item.type} block]` });
  }
}

function blocks(list, where) {
  return el("div", { class: "blocks" }, list.map((item) => block(item, where)));
}

// --- Messages ------------------------------------------------------------------------------------------
function clock(ts) {
  const when = new Date(parseFloat(ts) * 1000);
  return when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function message(item, { reply = false } = {}) {
  const where = { channel: item.channel, ts: item.ts };
  const body = el("div", { class: "message-body" },
    el("div", { class: "meta" }, el("b", { text: "All Ears" }), el("span", { class: "app-tag", text: "APP" }),
      el("span", { class: "time", text: clock(item.ts) }),
      item.edited ? el("span", { class: "edited", text: " (edited)" }) : null),
    item.blocks ? blocks(item.blocks, where) : mrkdwn(item.html));
  if (!reply && (item.thread.length || item.files.length)) body.append(thread(item));
  return el("div", { class: "message", "data-channel": item.channel, "data-ts": item.ts },
    el("div", { class: "avatar", text: "👂" }), body);
}

function thread(item) {
  const open = item.thread.length <= 3 || view.expanded.has(item.ts);
  const shown = open ? item.thread : item.thread.slice(0, 2);
  const toggle = el("button", {
    type: "button", class: "thread-toggle",
    text: open ? (item.thread.length > 3 ? "Hide replies" : "") : `Show all ${item.thread.length} replies`,
    onclick: () => {
      if (open) view.expanded.delete(item.ts); else view.expanded.add(item.ts);
      render(true);
    },
  });
  return el("div", { class: "thread" }, shown.map((reply) => message(reply, { reply: true })),
    toggle.textContent ? toggle : null, item.files.map(upload));
}

function upload(file) {
  // A file shared in the thread (files.completeUploadExternal), as Slack shows it: a reply with the image.
  return el("div", { class: "message" }, el("div", { class: "avatar", text: "👂" }),
    el("div", { class: "message-body" },
      el("div", { class: "meta" }, el("b", { text: "All Ears" }), el("span", { class: "app-tag", text: "APP" })),
      el("div", { class: "file" }, el("div", { class: "file-title", text: file.title }),
        el("img", { src: "/demo/" + file.url, alt: file.title }))));
}

function privateAnswer(item) {
  return el("div", { class: "private", "data-seq": item.seq },
    el("div", { class: "only-you", text: "👁 Only visible to you · All Ears" }),
    item.blocks ? blocks(item.blocks, { channel: item.channel, ts: "" }) : mrkdwn(item.html));
}

// --- The page ------------------------------------------------------------------------------------------
function renderPeople() {
  const box = document.getElementById("people");
  box.replaceChildren(...view.people.map((person) => el("button", {
    type: "button", class: "person", "data-person": person.id, "aria-pressed": String(person.id === view.person),
    title: `${person.title}, ${person.team}`,
    onclick: () => switchPerson(person.id),
  }, el("span", { class: "avatar", text: person.name[0] }), `${person.name} (${person.team})`)));
}

function switchPerson(id) {
  view.person = id;
  localStorage.setItem("allears-demo-person", id);
  if (view.state && view.state.channels.some((channel) => channel.dm && channel.id === view.channel)) view.channel = id;
  view.lastState = "";
  view.modalId = null;
  renderPeople();
  if (view.channel === HOME.id) act("home", {});
  else refresh();
}

function render(force = false) {
  const state = view.state;
  if (!state) return;
  const channels = state.channels.filter((channel) => !channel.dm);
  const apps = [HOME, ...state.channels.filter((channel) => channel.dm)];
  const item = (channel) => el("li", {}, el("button", {
    type: "button", "data-channel": channel.id, "aria-current": String(channel.id === view.channel),
    onclick: () => openChannel(channel.id),
  }, el("span", { text: channel.dm ? channel.name : "# " + channel.name }),
  channel.count ? el("span", { class: "badge", text: String(channel.count) }) : null));
  document.getElementById("channels").replaceChildren(...channels.map(item));
  document.getElementById("apps").replaceChildren(...apps.map(item));
  if (view.channel === HOME.id) return renderHome(state);
  const current = state.channels.find((channel) => channel.id === view.channel) || channels[0];
  view.channel = current.id;
  document.getElementById("channel-header").replaceChildren(
    el("span", { text: current.dm ? current.name : "# " + current.name }),
    el("span", { class: "muted", text: current.dm ? "messages from the app to you" : `${current.count} message(s)` }));
  const list = document.getElementById("messages");
  const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  const shown = state.messages.filter((entry) => entry.channel === current.id).map((entry) => message(entry));
  const answers = state.private.filter((entry) => entry.channel === current.id).map(privateAnswer);
  list.replaceChildren(...shown, ...answers);
  if (!shown.length && !answers.length) list.append(el("div", { class: "empty", text: "Nothing here yet." }));
  if (!force) scrollToEnd(atEnd);
  renderModal(state.modal);
}

const HOME = { id: "home", name: "All Ears · Home", dm: true };

function openChannel(id) {
  view.channel = id;
  if (id === HOME.id) act("home", {}); // Slack tells the bot the tab was opened; the bot draws it
  render(true);
  scrollToEnd(id !== HOME.id);
}

function renderHome(state) {
  document.getElementById("channel-header").replaceChildren(el("span", { text: HOME.name }),
    el("span", { class: "muted", text: "the app's Home tab, drawn by the bot for you; its answers come as direct messages" }));
  const list = document.getElementById("messages");
  list.replaceChildren(state.home
    ? el("div", { class: "home" }, blocks(state.home, { home: true }))
    : el("div", { class: "empty", text: "Opening the Home tab…" }));
  renderModal(state.modal);
}

function scrollToEnd(yes) {
  const list = document.getElementById("messages");
  if (yes) list.scrollTop = list.scrollHeight;
}

// --- Modals --------------------------------------------------------------------------------------------
function input(item) {
  const id = item.block_id;
  const spec = item.element;
  let control;
  if (spec.type === "plain_text_input") {
    control = spec.multiline
      ? el("textarea", { name: id, id, maxlength: spec.max_length, placeholder: spec.placeholder && spec.placeholder.text })
      : el("input", { type: "text", name: id, id, maxlength: spec.max_length, placeholder: spec.placeholder && spec.placeholder.text });
    if (spec.initial_value) control.value = spec.initial_value;
  } else if (spec.type === "static_select") {
    control = el("select", { name: id, id },
      el("option", { value: "", text: spec.placeholder ? spec.placeholder.text : "Choose…" }),
      spec.options.map((option) => el("option", { value: option.value, text: option.text.text })));
    if (spec.initial_option) control.value = spec.initial_option.value;
  } else if (spec.type === "checkboxes" || spec.type === "radio_buttons") {
    const kind = spec.type === "checkboxes" ? "checkbox" : "radio";
    control = el("div", { id, "data-kind": spec.type }, spec.options.map((option) => el("label", { class: "choice" },
      el("input", { type: kind, name: id, value: option.value,
        checked: (spec.initial_options || []).some((initial) => initial.value === option.value) || undefined }),
      el("span", {}, text(option.text, "span"), option.description ? el("small", { text: option.description.text }) : null))));
  } else if (spec.type === "datetimepicker") {
    control = el("input", { type: "datetime-local", name: id, id });
    if (spec.initial_date_time) control.value = localMoment(spec.initial_date_time);
  } else {
    control = el("div", { class: "muted", text: `[${spec.type}]` });
  }
  return el("div", { class: "input", "data-block": id },
    el("label", { class: "input-label", for: id }, item.label.text, item.optional ? el("span", { class: "optional", text: " (optional)" }) : null),
    control);
}

function localMoment(seconds) {
  const moment = new Date(seconds * 1000);
  moment.setMinutes(moment.getMinutes() - moment.getTimezoneOffset());
  return moment.toISOString().slice(0, 16);
}

function values(form, modal) {
  const found = {};
  for (const item of modal.blocks.filter((entry) => entry.type === "input")) {
    const kind = item.element.type;
    const id = item.block_id;
    if (kind === "checkboxes") found[id] = [...form.querySelectorAll(`input[name="${CSS.escape(id)}"]:checked`)].map((box) => box.value);
    else if (kind === "radio_buttons") found[id] = (form.querySelector(`input[name="${CSS.escape(id)}"]:checked`) || {}).value || "";
    else if (kind === "datetimepicker") {
      const picked = (form.elements.namedItem(id) || {}).value;
      found[id] = picked ? Math.floor(new Date(picked).getTime() / 1000) : "";
    } else found[id] = (form.elements.namedItem(id) || {}).value || "";
  }
  return found;
}

function renderModal(modal) {
  const overlay = document.getElementById("overlay");
  if (!modal) {
    overlay.hidden = true;
    view.modalId = null;
    return;
  }
  if (modal.id === view.modalId) return; // keep what the person is typing
  view.modalId = modal.id;
  const form = document.getElementById("modal");
  form.replaceChildren(
    el("div", { class: "modal-title", text: modal.title.text }),
    el("div", { class: "modal-body" }, modal.blocks.map((item) => (item.type === "input" ? input(item) : block(item, {})))),
    el("div", { class: "modal-footer" },
      el("button", { type: "button", class: "cancel", text: modal.close ? modal.close.text : "Cancel",
        onclick: () => act("dismiss", { view: modal.id }) }),
      modal.submit ? el("button", { type: "submit", class: "primary", text: modal.submit.text }) : null));
  form.onsubmit = async (event) => {
    event.preventDefault();
    // Slack itself refuses only an empty required input; whatever else is wrong, the bot says on the field.
    const missing = modal.blocks.find((item) => item.type === "input" && !item.optional && String(values(form, modal)[item.block_id]) === "");
    if (missing) return toast(`${missing.label.text}: please fill this in`);
    const answer = await act("submit", { view: modal.id, values: values(form, modal) });
    form.querySelectorAll(".field-error").forEach((shown) => shown.remove());
    for (const [id, message] of Object.entries((answer && answer.errors) || {})) {
      const field = form.querySelector(`[data-block="${CSS.escape(id)}"]`);
      if (field) field.append(el("div", { class: "field-error", role: "alert", text: message }));
    }
  };
  overlay.hidden = false;
  const first = form.querySelector("textarea, input, select");
  if (first) first.focus();
}

// --- Start ---------------------------------------------------------------------------------------------
async function refresh() {
  try {
    const response = await fetch(`/demo/api/state?person=${encodeURIComponent(view.person)}`);
    const raw = await response.text();
    if (raw === view.lastState) return;
    view.lastState = raw;
    view.state = JSON.parse(raw);
    render();
  } catch (error) {
    // the demo is stopping or restarting; the next poll tries again
  }
}

document.getElementById("composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const box = document.getElementById("command");
  const line = box.value.trim();
  if (!line) return;
  if (!line.startsWith("/")) return toast("Type a slash command, starting with /");
  const answer = await act("command", { text: line, channel: view.channel });
  if (answer) box.value = "";
});

document.getElementById("post-summary").addEventListener("click", async () => {
  const answer = await act("summary", {});
  if (answer) {
    toast(answer.message);
    view.channel = "C0WEEKLY";
    render(true);
    scrollToEnd(true);
  }
});

api("people").then((data) => {
  view.people = data.people;
  if (!view.people.some((person) => person.id === view.person)) view.person = view.people[0].id;
  renderPeople();
  if (view.channel === HOME.id) act("home", {});
  else refresh();
  setInterval(refresh, 1000);
});
