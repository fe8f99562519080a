// edgekv data explorer: a page over edgekv's HTTP API (the v4 KV API and the explorer API,
// docs/explorer.md). No framework and no build step. Every stored string reaches the page
// through textContent or attribute values set by the DOM API, never as markup.

const EXPLORER = location.pathname.replace(/\/[^/]*$/, "");   // .../cdn-cgi/edgekv/explorer
const MANAGEMENT = EXPLORER.replace(/\/explorer$/, "");       // .../cdn-cgi/edgekv
const V4 = MANAGEMENT + "/client/v4";
const XAPI = EXPLORER + "/api";
const TOKEN_KEY = "edgekv-explorer-token";
const PAGE_SIZE = 100;
const PREVIEW_BYTES = 64 * 1024;

const state = { session: null, account: null, namespaces: new Map() };

// -- DOM helpers -----------------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const $ = (selector) => document.querySelector(selector);
const main = () => $("#main");

function render(...nodes) {
  main().replaceChildren(...nodes.flat());
}

function toast(message, bad = false) {
  const item = h("div", { class: bad ? "bad" : "" }, message);
  $("#toast").append(item);
  setTimeout(() => item.remove(), bad ? 8000 : 3500);
}

function banner(message) {
  const el = $("#banner");
  el.textContent = message || "";
  el.hidden = !message;
}

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function relativeTime(epochSeconds) {
  const delta = epochSeconds - Date.now() / 1000;
  const abs = Math.abs(delta);
  const steps = [[60, "second", 1], [3600, "minute", 60], [86400, "hour", 3600],
                 [86400 * 60, "day", 86400], [Infinity, "month", 86400 * 30]];
  const [, unit, size] = steps.find(([limit]) => abs < limit);
  return new Intl.RelativeTimeFormat("en", { numeric: "auto" }).format(Math.round(delta / size), unit);
}

function expirationCell(expiration) {
  if (expiration === undefined || expiration === null) return h("span", { class: "muted" }, "never");
  const date = new Date(expiration * 1000);
  return h("span", { title: date.toISOString() }, relativeTime(expiration), " ",
           h("span", { class: "muted hide-narrow" }, `(${date.toISOString().replace(".000Z", "Z")})`));
}

function compactJson(value) {
  if (value === undefined || value === null) return "";
  const text = JSON.stringify(value);
  return text.length > 120 ? text.slice(0, 117) + "…" : text;
}

function confirmDialog(text, okLabel = "Delete") {
  const dialog = $("#confirm");
  $("#confirm-text").textContent = text;
  $("#confirm-ok").textContent = okLabel;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.returnValue = "cancel";
    dialog.showModal();
    $("#confirm-cancel").focus();
  });
}

// -- HTTP ------------------------------------------------------------------------------------

class ApiFailure extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function call(url, { method = "GET", body, headers = {}, raw = false } = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const sent = { ...headers };
  if (token) sent.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(url, { method, body, headers: sent, credentials: "omit", cache: "no-store" });
  } catch (err) {
    banner(`Cannot reach the edgekv server (${location.host}): is it running? (${err.message})`);
    throw new ApiFailure(0, "the server cannot be reached");
  }
  banner("");
  if (raw && response.ok) return response;
  let data = null;
  const type = response.headers.get("content-type") || "";
  if (type.includes("json")) data = await response.json().catch(() => null);
  else if (!response.ok) data = { errors: [{ message: (await response.text()).trim() }] };
  if (!response.ok || (data && data.success === false)) {
    const message = data && data.errors && data.errors.length
      ? data.errors.map((e) => e.message).join("\n") : `HTTP ${response.status}`;
    if (response.status === 403 && message === "Authentication error" && !url.startsWith(XAPI + "/session")) {
      if (!state.session || !state.session.read_only) showLogin("The server refused this token.");
    }
    throw new ApiFailure(response.status, message);
  }
  return data;
}

const enc = encodeURIComponent;
const v4ns = (ns = "") => `${V4}/accounts/${enc(state.account)}/storage/kv/namespaces${ns ? "/" + enc(ns) : ""}`;
const xns = (ns) => `${XAPI}/accounts/${enc(state.account)}/namespaces/${enc(ns)}`;
const xdo = (binding) => `${XAPI}/do/namespaces/${enc(binding)}`;
const canWrite = () => state.session && !state.session.read_only;

function failureView(err, what) {
  const hint = err.status === 404 ? "It does not exist (any more)." :
    err.status === 403 ? "Your credential does not allow this." :
    err.status === 0 ? "The server cannot be reached." : "";
  return h("div", { class: "panel" }, h("h1", {}, `Could not load ${what}`),
           h("p", { class: "error" }, err.message), hint && h("p", { class: "muted" }, hint),
           h("p", {}, h("a", { href: "#/kv" }, "Back to KV namespaces")));
}

// -- session and login -----------------------------------------------------------------------

function showLogin(message = "") {
  const dialog = $("#login");
  $("#login-error").textContent = message;
  if (!dialog.open) dialog.showModal();
  $("#login-token").focus();
}

async function loadSession() {
  try {
    const data = await call(`${XAPI}/session`);
    state.session = data.result;
  } catch (err) {
    state.session = null;
    if (err.status === 403 || err.status === 401) {
      const hadToken = Boolean(sessionStorage.getItem(TOKEN_KEY));
      render(h("div", { class: "panel" }, h("h1", {}, "Sign in required"),
               h("p", {}, "This server needs an API token.")));
      showLogin(hadToken ? "The server refused this token (unknown, expired or revoked)." : "");
      return false;
    }
    render(failureView(err, "the explorer"));
    return false;
  }
  const session = state.session;
  const accounts = session.accounts;
  const select = $("#account");
  select.replaceChildren(...accounts.map((a) => h("option", { value: a.id }, `${a.name} (${a.id.slice(0, 8)}…)`)));
  const remembered = sessionStorage.getItem("edgekv-explorer-account");
  state.account = accounts.some((a) => a.id === remembered) ? remembered : (accounts[0] || {}).id;
  select.value = state.account || "";
  $(".account").hidden = accounts.length < 2;
  const who = [];
  who.push(session.credential ? "token" : "local (no token)");
  if (session.read_only) who.push("read-only");
  if (session.admin) who.push("admin");
  $("#who").textContent = who.join(" · ");
  $("#signout").hidden = !session.credential;
  return true;
}

// -- KV namespaces ---------------------------------------------------------------------------

async function namespacesView() {
  render(h("h1", {}, "KV namespaces"), h("p", { class: "muted" }, "Loading…"));
  let list;
  try {
    list = (await call(`${v4ns()}?per_page=1000&order=title`)).result;
  } catch (err) {
    render(failureView(err, "the namespaces"));
    return;
  }
  state.namespaces = new Map(list.map((ns) => [ns.id, ns]));
  const rows = list.map((ns) => {
    const count = h("td", { class: "num", dataset: { count: ns.id } }, "…");
    const actions = h("td", {},
      canWrite() && h("button", { type: "button", onclick: () => renameNamespace(ns) }, "Rename"), " ",
      canWrite() && h("button", { type: "button", class: "danger", onclick: () => deleteNamespace(ns) }, "Delete"));
    return h("tr", {},
      h("td", {}, h("a", { href: `#/kv/${enc(ns.id)}`, class: "ns-link" }, ns.title)),
      h("td", { class: "hide-narrow" }, h("code", {}, ns.id)), count, actions);
  });
  const create = canWrite() && h("form", { class: "toolbar", onsubmit: createNamespace },
    h("label", { class: "inline", for: "new-ns" }, "New namespace"),
    h("input", { id: "new-ns", name: "title", placeholder: "title", required: true }),
    h("button", { type: "submit", class: "primary" }, "Create"));
  render(h("h1", {}, "KV namespaces"), create || h("p", {}, h("span", { class: "badge ro" }, "read-only")),
    list.length ? h("div", { class: "table-wrap" }, h("table", { id: "namespaces" },
      h("thead", {}, h("tr", {}, h("th", {}, "Title"), h("th", { class: "hide-narrow" }, "ID"),
        h("th", { class: "num" }, "Keys"), h("th", {}, ""))),
      h("tbody", {}, rows)))
      : h("p", { class: "muted" }, "No namespaces yet."));
  for (const ns of list) loadCount(ns.id);  // after the table is shown, one request each
}

async function loadCount(namespaceId, fresh = false) {
  try {
    const data = await call(`${xns(namespaceId)}/count${fresh ? "?fresh=1" : ""}`);
    document.querySelectorAll(`[data-count="${CSS.escape(namespaceId)}"]`).forEach((el) => {
      el.textContent = data.result.count.toLocaleString("en");
    });
  } catch (err) {
    document.querySelectorAll(`[data-count="${CSS.escape(namespaceId)}"]`).forEach((el) => {
      el.textContent = "?";
      el.title = err.message;
    });
  }
}

async function createNamespace(event) {
  event.preventDefault();
  const title = event.target.title.value.trim();
  try {
    await call(v4ns(), { method: "POST", body: JSON.stringify({ title }), headers: { "Content-Type": "application/json" } });
    toast(`Created namespace ${title}`);
    namespacesView();
  } catch (err) { toast(err.message, true); }
}

async function renameNamespace(ns) {
  const title = prompt(`New title for "${ns.title}"`, ns.title);
  if (title === null || title.trim() === "" || title === ns.title) return;
  try {
    await call(v4ns(ns.id), { method: "PUT", body: JSON.stringify({ title: title.trim() }), headers: { "Content-Type": "application/json" } });
    toast("Renamed");
    namespacesView();
  } catch (err) { toast(err.message, true); }
}

async function deleteNamespace(ns) {
  if (!await confirmDialog(`Delete the namespace "${ns.title}" and every key in it? This cannot be undone.`)) return;
  try {
    await call(v4ns(ns.id), { method: "DELETE" });
    toast(`Deleted namespace ${ns.title}`);
    namespacesView();
  } catch (err) { toast(err.message, true); }
}

// -- keys of one namespace -------------------------------------------------------------------

const keysState = { ns: null, prefix: "", order: "asc", cursors: [""], page: 0, selected: new Set(), open: null };

async function namespaceView(namespaceId) {
  if (keysState.ns !== namespaceId) {
    Object.assign(keysState, { ns: namespaceId, prefix: "", order: "asc", cursors: [""], page: 0, open: null });
    keysState.selected = new Set();
  }
  let ns = state.namespaces.get(namespaceId);
  if (!ns) {
    try { ns = (await call(v4ns(namespaceId))).result; } catch (err) { render(failureView(err, "the namespace")); return; }
    state.namespaces.set(ns.id, ns);
  }
  const search = h("input", { id: "prefix", type: "search", class: "grow", placeholder: "Search by key prefix (press / to focus)",
    value: keysState.prefix, "aria-label": "Key prefix" });
  const order = h("select", { id: "order", "aria-label": "Sort order" },
    h("option", { value: "asc" }, "Name A → Z"), h("option", { value: "desc" }, "Name Z → A"));
  order.value = keysState.order;
  const searchForm = h("form", { class: "toolbar", role: "search", onsubmit: (e) => {
    e.preventDefault();
    Object.assign(keysState, { prefix: search.value, order: order.value, cursors: [""], page: 0 });
    loadKeys();
  } }, search, order, h("button", { type: "submit" }, "Search"));
  order.addEventListener("change", () => searchForm.requestSubmit());
  const upload = h("input", { type: "file", id: "bulk-file", accept: ".json,application/json", hidden: true,
    onchange: (e) => bulkUpload(e.target) });
  const tools = h("div", { class: "toolbar" },
    canWrite() && h("button", { type: "button", class: "primary", id: "new-key", onclick: () => editKey(null) }, "New key"),
    canWrite() && h("button", { type: "button", id: "upload", onclick: () => upload.click() }, "Upload bulk JSON"), upload,
    h("button", { type: "button", id: "download", onclick: () => download(ns) }, "Download as bulk JSON"),
    canWrite() && h("button", { type: "button", class: "danger", id: "delete-selected", onclick: deleteSelected }, "Delete selected"),
    h("span", { class: "muted" }, "Keys: ", h("span", { dataset: { count: ns.id } }, "…")));
  render(h("p", {}, h("a", { href: "#/kv" }, "KV namespaces"), " / "),
    h("h1", {}, ns.title, " ", h("code", { class: "muted hide-narrow" }, ns.id)),
    searchForm, tools, h("div", { id: "bulk-report" }),
    h("div", { class: "split" }, h("section", { "aria-label": "Keys" }, h("div", { id: "keys" })),
      h("aside", { id: "value-panel", "aria-label": "Value" })));
  loadCount(ns.id);
  await loadKeys();
  if (keysState.open !== null) openValue(keysState.open);
}

async function loadKeys() {
  const target = $("#keys");
  if (!target) return;
  target.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (keysState.prefix) params.set("prefix", keysState.prefix);
  const cursor = keysState.cursors[keysState.page];
  if (cursor) params.set("cursor", cursor);
  let data;
  try {
    // Ascending pages come from the v4 API itself; descending ones from the explorer API.
    const url = keysState.order === "asc" ? `${v4ns(keysState.ns)}/keys?${params}`
      : `${xns(keysState.ns)}/keys?${params}&order=desc`;
    data = await call(url);
  } catch (err) {
    target.replaceChildren(h("p", { class: "error" }, err.message));
    return;
  }
  const next = data.result_info.cursor;
  keysState.cursors[keysState.page + 1] = next;
  const rows = data.result.map((key) => {
    const box = h("input", { type: "checkbox", "aria-label": `Select ${key.name}`, checked: keysState.selected.has(key.name),
      onchange: (e) => { if (e.target.checked) keysState.selected.add(key.name); else keysState.selected.delete(key.name); } });
    return h("tr", { dataset: { key: key.name }, class: keysState.open === key.name ? "selected" : "" },
      canWrite() && h("td", {}, box),
      h("td", {}, h("button", { type: "button", class: "link key-name", onclick: () => openValue(key.name) }, key.name)),
      h("td", {}, expirationCell(key.expiration)),
      h("td", { class: "hide-narrow" }, h("code", {}, compactJson(key.metadata))));
  });
  const table = data.result.length ? h("div", { class: "table-wrap" }, h("table", { id: "key-table" },
    h("thead", {}, h("tr", {}, canWrite() && h("th", {}, ""), h("th", {}, "Name"), h("th", {}, "Expires"),
      h("th", { class: "hide-narrow" }, "Metadata"))), h("tbody", {}, rows)))
    : h("p", { class: "muted", id: "no-keys" }, keysState.prefix ? `No key starts with "${keysState.prefix}".` : "This namespace is empty.");
  const pager = h("div", { class: "pager" },
    h("button", { type: "button", id: "prev-page", disabled: keysState.page === 0,
      onclick: () => { keysState.page -= 1; loadKeys(); } }, "← Previous"),
    h("span", { class: "muted" }, `Page ${keysState.page + 1}`),
    h("button", { type: "button", id: "next-page", disabled: !next,
      onclick: () => { keysState.page += 1; loadKeys(); } }, "Next →"));
  target.replaceChildren(table, pager);
}

function detectImage(bytes) {
  const starts = (...sig) => sig.every((b, i) => bytes[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47)) return "image/png";
  if (starts(0xff, 0xd8, 0xff)) return "image/jpeg";
  if (starts(0x47, 0x49, 0x46, 0x38)) return "image/gif";
  if (starts(0x52, 0x49, 0x46, 0x46) && bytes[8] === 0x57 && bytes[9] === 0x45) return "image/webp";
  return null;
}

function hexDump(bytes, max = 4096) {
  const lines = [];
  for (let off = 0; off < Math.min(bytes.length, max); off += 16) {
    const row = bytes.slice(off, off + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, "0")).join(" ");
    const ascii = Array.from(row, (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${off.toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  ${ascii}`);
  }
  if (bytes.length > max) lines.push(`… ${bytes.length - max} more bytes`);
  return lines.join("\n");
}

function decodeBase64(text) {
  const bin = atob(text);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i += 1) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

function describeBytes(bytes) {
  const image = detectImage(bytes);
  if (image) return { kind: "image", type: image };
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    try { return { kind: "json", text, json: JSON.parse(text) }; } catch { return { kind: "text", text }; }
  } catch { return { kind: "binary" }; }
}

async function openValue(key, whole = false) {
  keysState.open = key;
  document.querySelectorAll("#key-table tr").forEach((tr) => tr.classList.toggle("selected", tr.dataset.key === key));
  const panel = $("#value-panel");
  panel.replaceChildren(h("div", { class: "panel" }, h("p", { class: "muted" }, "Loading…")));
  let info;
  let bytes;
  try {
    info = (await call(`${xns(keysState.ns)}/preview/${enc(key)}?bytes=${whole ? 0 : PREVIEW_BYTES}`)).result;
    if (whole) {
      const response = await call(`${v4ns(keysState.ns)}/values/${enc(key)}`, { raw: true });
      bytes = new Uint8Array(await response.arrayBuffer());
      info.truncated = false;
    } else {
      bytes = decodeBase64(info.base64);
    }
  } catch (err) {
    panel.replaceChildren(h("div", { class: "panel" }, h("h2", {}, key), h("p", { class: "error" }, err.message)));
    return;
  }
  const kind = info.truncated ? { kind: "partial" } : describeBytes(bytes);
  const views = { text: "Text", json: "Pretty JSON", image: "Image", binary: "Hex", partial: "Hex" };
  const modes = kind.kind === "json" ? ["json", "text", "hex"] : kind.kind === "text" ? ["text", "hex"]
    : kind.kind === "image" ? ["image", "hex"] : ["hex"];
  const shown = h("div", { id: "value-view" });
  const show = (mode) => {
    if (mode === "json") shown.replaceChildren(h("pre", { class: "value", id: "value-text" }, JSON.stringify(kind.json, null, 2)));
    else if (mode === "text") shown.replaceChildren(h("pre", { class: "value", id: "value-text" }, kind.text));
    else if (mode === "image") {
      const url = URL.createObjectURL(new Blob([bytes], { type: kind.type }));
      shown.replaceChildren(h("img", { class: "preview", src: url, alt: `Image stored under ${key}`, id: "value-image" }));
    } else shown.replaceChildren(h("pre", { class: "value mono", id: "value-hex" }, hexDump(bytes)));
    modeSelect.value = mode;
  };
  const modeSelect = h("select", { id: "view-mode", "aria-label": "Show as", onchange: (e) => show(e.target.value) },
    modes.map((m) => h("option", { value: m }, m === "hex" ? "Hex dump" : views[m])));
  panel.replaceChildren(h("div", { class: "panel" },
    h("h2", { id: "value-key" }, key),
    h("dl", { class: "kv-meta" },
      h("dt", {}, "Size"), h("dd", { id: "value-size" }, `${formatBytes(info.size)} (${info.size.toLocaleString("en")} bytes)`),
      h("dt", {}, "Type"), h("dd", {}, info.truncated ? "not loaded whole" : views[kind.kind] === "Hex" ? "binary" : kind.kind),
      h("dt", {}, "Expires"), h("dd", {}, expirationCell(info.expiration)),
      h("dt", {}, "Metadata"), h("dd", {}, h("code", { id: "value-metadata" }, info.metadata === null ? "none" : JSON.stringify(info.metadata)))),
    info.truncated && h("p", { class: "muted" }, `Only the first ${formatBytes(bytes.length)} are shown. `,
      h("button", { type: "button", id: "load-whole", onclick: () => openValue(key, true) }, `Load all ${formatBytes(info.size)}`)),
    h("div", { class: "toolbar" }, h("label", { class: "inline" }, "Show as ", modeSelect),
      canWrite() && h("button", { type: "button", id: "edit-value", disabled: info.truncated || !["text", "json"].includes(kind.kind),
        title: "Text values can be edited here", onclick: () => editKey({ key, info, text: kind.text }) }, "Edit"),
      canWrite() && h("button", { type: "button", class: "danger", id: "delete-value", onclick: () => deleteKeys([key]) }, "Delete")),
    shown));
  show(modes[0]);
}

function editKey(existing) {
  const panel = $("#value-panel");
  const isNew = existing === null;
  const info = existing ? existing.info : { metadata: null, expiration: null };
  const form = h("form", { class: "panel", id: "edit-form", onsubmit: (e) => saveKey(e, isNew) },
    h("h2", {}, isNew ? "New key" : `Edit ${existing.key}`),
    h("label", { for: "edit-key" }, "Key"),
    h("input", { id: "edit-key", name: "key", required: true, value: isNew ? "" : existing.key, readonly: !isNew, class: "wide" }),
    h("label", { for: "edit-value-text" }, "Value"),
    h("textarea", { id: "edit-value-text", name: "value" }, isNew ? "" : existing.text),
    h("label", { for: "edit-metadata" }, "Metadata (JSON, optional)"),
    h("textarea", { id: "edit-metadata", name: "metadata", class: "short" }, info.metadata === null ? "" : JSON.stringify(info.metadata, null, 2)),
    h("label", { for: "edit-ttl" }, "Expires in (seconds, at least 60; empty keeps the expiration below)"),
    h("input", { id: "edit-ttl", name: "ttl", type: "number", min: "60" }),
    h("label", { for: "edit-expiration" }, "Expiration (epoch seconds; empty: never)"),
    h("input", { id: "edit-expiration", name: "expiration", type: "number", value: info.expiration ?? "" }),
    h("div", { class: "actions" },
      h("button", { type: "button", onclick: () => (isNew ? panel.replaceChildren() : openValue(existing.key)) }, "Cancel"),
      h("button", { type: "submit", class: "primary", id: "save-value" }, "Save")));
  panel.replaceChildren(form);
  (isNew ? form.key : form.value).focus();
}

async function saveKey(event, isNew) {
  event.preventDefault();
  const form = event.target;
  const key = form.key.value;
  const body = new FormData();
  body.append("value", new Blob([form.value.value], { type: "text/plain" }));
  const metadata = form.metadata.value.trim();
  if (metadata) {
    try { JSON.parse(metadata); } catch { toast("Metadata must be JSON", true); return; }
    body.append("metadata", metadata);
  }
  const params = new URLSearchParams();
  if (form.ttl.value) params.set("expiration_ttl", form.ttl.value);
  else if (form.expiration.value) params.set("expiration", form.expiration.value);
  try {
    await call(`${v4ns(keysState.ns)}/values/${enc(key)}?${params}`, { method: "PUT", body });
    toast(isNew ? `Created ${key}` : `Saved ${key}`);
    keysState.open = key;
    await loadKeys();
    loadCount(keysState.ns, true);  // after our own write
    openValue(key);
  } catch (err) { toast(err.message, true); }
}

async function deleteKeys(keys) {
  if (!keys.length) { toast("Select keys first", true); return; }
  const text = keys.length === 1 ? `Delete the key "${keys[0]}"?` : `Delete these ${keys.length} keys?`;
  if (!await confirmDialog(text)) return;
  try {
    if (keys.length === 1) await call(`${v4ns(keysState.ns)}/values/${enc(keys[0])}`, { method: "DELETE" });
    else await call(`${v4ns(keysState.ns)}/bulk/delete`, { method: "POST", body: JSON.stringify(keys), headers: { "Content-Type": "application/json" } });
    toast(keys.length === 1 ? `Deleted ${keys[0]}` : `Deleted ${keys.length} keys`);
    keys.forEach((k) => keysState.selected.delete(k));
    if (keys.includes(keysState.open)) { keysState.open = null; $("#value-panel").replaceChildren(); }
    await loadKeys();
    loadCount(keysState.ns, true);  // after our own write
  } catch (err) { toast(err.message, true); }
}

const deleteSelected = () => deleteKeys([...keysState.selected]);

async function bulkUpload(input) {
  const file = input.files[0];
  input.value = "";
  if (!file) return;
  const report = $("#bulk-report");
  report.replaceChildren(h("p", { class: "muted" }, `Uploading ${file.name}…`));
  try {
    const data = await call(`${xns(keysState.ns)}/bulk?filename=${enc(file.name)}`, { method: "POST", body: file,
      headers: { "Content-Type": "application/json" } });
    const warnings = (data.messages || []).map((m) => m.message);
    report.replaceChildren(h("div", { class: "panel", id: "bulk-ok" },
      h("p", {}, `Stored ${data.result.successful_key_count} key(s) from ${file.name}.`),
      warnings.length && h("pre", { class: "muted" }, warnings.join("\n"))));
    await loadKeys();
    loadCount(keysState.ns, true);  // after our own write
  } catch (err) {
    report.replaceChildren(h("div", { class: "panel", id: "bulk-error" },
      h("p", {}, h("strong", {}, `Nothing was stored from ${file.name}.`)), h("pre", { class: "error" }, err.message)));
  }
}

async function download(ns) {
  try {
    const params = keysState.prefix ? `?prefix=${enc(keysState.prefix)}` : "";
    const response = await call(`${xns(ns.id)}/export${params}`, { raw: true });
    const url = URL.createObjectURL(await response.blob());
    const link = h("a", { href: url, download: `${ns.title.replace(/[^A-Za-z0-9._-]/g, "_")}.json` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (err) { toast(err.message, true); }
}

// -- Durable Objects -------------------------------------------------------------------------

function needAdmin() {
  if (state.session && state.session.durable_objects) return false;
  render(h("h1", {}, "Durable Objects"), h("div", { class: "panel", id: "do-denied" },
    state.session && !state.session.admin
      ? h("p", {}, "Durable Objects belong to no account: their views need an admin token (",
          h("code", {}, "edgekv token create --admin"), ").")
      : h("p", {}, "This server runs no Worker, so it has no Durable Objects.")));
  return true;
}

async function doNamespacesView() {
  if (needAdmin()) return;
  let namespaces;
  let alarms;
  try {
    namespaces = (await call(`${XAPI}/do/namespaces`)).result;
    alarms = (await call(`${XAPI}/do/alarms`)).result;
  } catch (err) { render(failureView(err, "Durable Objects")); return; }
  render(h("h1", {}, "Durable Objects"),
    h("div", { class: "table-wrap" }, h("table", { id: "do-namespaces" },
      h("thead", {}, h("tr", {}, h("th", {}, "Binding"), h("th", {}, "Class"), h("th", {}, "Storage"))),
      h("tbody", {}, namespaces.map((ns) => h("tr", {},
        h("td", {}, h("a", { href: `#/do/${enc(ns.binding)}` }, ns.binding)), h("td", {}, ns.class_name),
        h("td", {}, ns.storage === "sqlite" ? "SQLite" : "key-value")))))),
    h("h2", {}, "Pending alarms"),
    alarms.length ? h("div", { class: "table-wrap" }, h("table", { id: "alarms" },
      h("thead", {}, h("tr", {}, h("th", {}, "Binding"), h("th", {}, "Object"), h("th", {}, "Due"), h("th", { class: "num" }, "Retries"))),
      h("tbody", {}, alarms.map((a) => h("tr", {},
        h("td", {}, a.binding || a.unique_key),
        h("td", {}, a.binding ? h("a", { href: `#/do/${enc(a.binding)}/${a.id}${a.name ? "?name=" + enc(a.name) : ""}` }, a.name || a.id) : a.id),
        h("td", {}, expirationCell(a.time_ms / 1000)), h("td", { class: "num" }, a.retry))))))
      : h("p", { class: "muted" }, "No alarm is set."));
}

async function doObjectsView(binding) {
  if (needAdmin()) return;
  let objects;
  try { objects = (await call(`${xdo(binding)}/objects`)).result; } catch (err) { render(failureView(err, binding)); return; }
  const nameInput = h("input", { id: "object-name", placeholder: "name given to idFromName / getByName", class: "grow", required: true });
  render(h("p", {}, h("a", { href: "#/do" }, "Durable Objects"), " / "), h("h1", {}, binding),
    h("form", { class: "toolbar", onsubmit: async (e) => {
      e.preventDefault();
      try {
        const found = (await call(`${xdo(binding)}/id?name=${enc(nameInput.value)}`)).result;
        location.hash = `#/do/${enc(binding)}/${found.id}?name=${enc(found.name)}`;
      } catch (err) { toast(err.message, true); }
    } }, h("label", { class: "inline", for: "object-name" }, "Open by name"), nameInput, h("button", { type: "submit" }, "Open")),
    objects.length ? h("div", { class: "table-wrap" }, h("table", { id: "objects" },
      h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Id"))),
      h("tbody", {}, objects.map((o) => h("tr", {},
        h("td", {}, h("a", { href: `#/do/${enc(binding)}/${o.id}${o.name ? "?name=" + enc(o.name) : ""}`, class: "object-link" }, o.name || "(unnamed)")),
        h("td", {}, h("code", {}, o.id)))))))
      : h("p", { class: "muted" }, "No object of this namespace has stored data yet."));
}

async function doObjectView(binding, id, name, tab) {
  if (needAdmin()) return;
  const q = name ? `?name=${enc(name)}` : "";
  const base = `${xdo(binding)}/objects/${id}`;
  let info;
  try { info = (await call(`${base}${q}`)).result; } catch (err) { render(failureView(err, "the object")); return; }
  const tabs = ["storage", ...(info.storage === "sqlite" ? ["sql"] : [])];
  tab = tabs.includes(tab) ? tab : "storage";
  const link = (t) => `#/do/${enc(binding)}/${id}${q ? q + "&" : "?"}tab=${t}`;
  const body = h("div", { id: "object-body" });
  render(h("p", {}, h("a", { href: "#/do" }, "Durable Objects"), " / ", h("a", { href: `#/do/${enc(binding)}` }, binding), " / "),
    h("h1", {}, info.name || "(unnamed object)"),
    h("dl", { class: "kv-meta" }, h("dt", {}, "Id"), h("dd", {}, h("code", {}, info.id)),
      h("dt", {}, "Storage"), h("dd", {}, info.storage === "sqlite" ? `SQLite (${formatBytes(info.database_size || 0)})` : "key-value"),
      h("dt", {}, "Alarm"), h("dd", { id: "object-alarm" }, info.alarm_ms ? expirationCell(info.alarm_ms / 1000) : "none")),
    h("div", { class: "tabs", role: "tablist" }, tabs.map((t) => h("button", { type: "button", role: "tab", id: `tab-${t}`,
      "aria-selected": String(t === tab), onclick: () => { location.hash = link(t); } }, t === "sql" ? "SQL tables" : "Key-value storage"))),
    body);
  if (tab === "sql") await sqlTab(body, base, q);
  else await storageTab(body, base, q);
}

function valueText(entry) {
  return entry.type === "json" ? JSON.stringify(entry.json, null, 2) : entry.text;
}

async function storageTab(body, base, q, shown = [], after = "") {
  const sep = q ? "&" : "?";
  let entries;
  let next;
  try {
    const data = await call(`${base}/kv${q}${sep}limit=${PAGE_SIZE}${after ? "&after=" + enc(after) : ""}`);
    entries = [...shown, ...data.result];
    next = data.result_info.after;
  } catch (err) {
    body.replaceChildren(h("p", { class: "error" }, err.message)); return;
  }
  const editor = h("div", { id: "do-editor" });
  const edit = (entry) => {
    const isNew = !entry;
    const form = h("form", { class: "panel", id: "do-edit-form", onsubmit: async (e) => {
      e.preventDefault();
      let value;
      try { value = JSON.parse(form.value.value); } catch { toast("The value must be JSON (a string needs quotes)", true); return; }
      try {
        await call(`${base}/kv/${enc(form.key.value)}${q}`, { method: "PUT", body: JSON.stringify(value), headers: { "Content-Type": "application/json" } });
        toast(`Saved ${form.key.value}`);
        storageTab(body, base, q);
      } catch (err) { toast(err.message, true); }
    } },
      h("h2", {}, isNew ? "Put a key" : `Edit ${entry.key}`),
      h("label", { for: "do-key" }, "Key"), h("input", { id: "do-key", name: "key", required: true, value: isNew ? "" : entry.key, readonly: !isNew, class: "wide" }),
      h("label", { for: "do-value" }, "Value (JSON)"), h("textarea", { id: "do-value", name: "value" }, isNew ? "" : valueText(entry)),
      h("div", { class: "actions" }, h("button", { type: "button", onclick: () => editor.replaceChildren() }, "Cancel"),
        h("button", { type: "submit", class: "primary", id: "do-save" }, "Save")));
    editor.replaceChildren(form);
    (isNew ? form.key : form.value).focus();
  };
  const remove = async (entry) => {
    if (!await confirmDialog(`Delete the key "${entry.key}" from this object's storage?`)) return;
    try { await call(`${base}/kv/${enc(entry.key)}${q}`, { method: "DELETE" }); toast(`Deleted ${entry.key}`); storageTab(body, base, q); }
    catch (err) { toast(err.message, true); }
  };
  body.replaceChildren(
    canWrite() && h("div", { class: "toolbar" }, h("button", { type: "button", class: "primary", id: "do-new", onclick: () => edit(null) }, "Put a key")),
    h("div", { class: "split" },
      entries.length ? h("div", { class: "table-wrap" }, h("table", { id: "do-storage" },
        h("thead", {}, h("tr", {}, h("th", {}, "Key"), h("th", {}, "Value"), h("th", {}, ""))),
        h("tbody", {}, entries.map((entry) => h("tr", { dataset: { key: entry.key } },
          h("td", {}, h("code", {}, entry.key)),
          h("td", {}, h("code", { class: "do-value" }, entry.type === "json" ? JSON.stringify(entry.json) : entry.text),
            entry.type !== "json" && h("span", { class: "badge" }, entry.type)),
          h("td", {}, canWrite() && entry.type === "json" && h("button", { type: "button", class: "do-edit", onclick: () => edit(entry) }, "Edit"), " ",
            canWrite() && h("button", { type: "button", class: "danger do-delete", onclick: () => remove(entry) }, "Delete")))))))
        : h("p", { class: "muted" }, "No key-value data."),
      editor),
    next && h("div", { class: "pager" }, h("button", { type: "button", id: "do-more",
      onclick: () => storageTab(body, base, q, entries, next) }, `Show more keys (${entries.length} shown)`)));
}

function cellText(value) {
  if (value === null) return "NULL";
  if (typeof value === "object" && value.$bytes !== undefined) return `x'${Array.from(decodeBase64(value.$bytes), (b) => b.toString(16).padStart(2, "0")).join("")}'`;
  return String(value);
}

function resultTable(result, id) {
  if (!result.columns.length) return h("p", { class: "muted" }, "No result rows.");
  return h("div", { class: "table-wrap" }, h("table", { id },
    h("thead", {}, h("tr", {}, result.columns.map((c) => h("th", {}, c)))),
    h("tbody", {}, result.rows.map((row) => h("tr", {}, row.map((v) => h("td", {}, h("code", {}, cellText(v)))))))));
}

async function sqlTab(body, base, q) {
  let tables;
  try { tables = (await call(`${base}/sql/tables${q}`)).result; } catch (err) {
    body.replaceChildren(h("p", { class: "error" }, err.message)); return;
  }
  const rowsView = h("div", { id: "table-rows" });
  const showTable = async (name) => {
    try {
      const result = (await call(`${base}/sql/tables/${enc(name)}${q}`)).result;
      rowsView.replaceChildren(h("h2", {}, name), resultTable(result, "rows-table"));
    } catch (err) { rowsView.replaceChildren(h("p", { class: "error" }, err.message)); }
  };
  const query = h("textarea", { id: "sql-query", "aria-label": "SQL", class: "short" }, "SELECT name FROM sqlite_master");
  const allowWrites = h("input", { type: "checkbox", id: "sql-write", disabled: !canWrite() });
  const output = h("div", { id: "sql-result" });
  body.replaceChildren(
    tables.length ? h("div", { class: "table-wrap" }, h("table", { id: "sql-tables" },
      h("thead", {}, h("tr", {}, h("th", {}, "Table"), h("th", {}, "Type"), h("th", { class: "num" }, "Rows"))),
      h("tbody", {}, tables.map((t) => h("tr", {},
        h("td", {}, h("button", { type: "button", class: "link", onclick: () => showTable(t.name) }, t.name)),
        h("td", {}, t.type), h("td", { class: "num" }, t.rows))))))
      : h("p", { class: "muted" }, "No SQL tables."),
    rowsView,
    h("h2", {}, "SQL console"),
    h("form", { class: "panel", onsubmit: async (e) => {
      e.preventDefault();
      try {
        const result = (await call(`${base}/sql${q}`, { method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ query: query.value, write: allowWrites.checked }) })).result;
        output.replaceChildren(
          h("p", { class: "muted" }, `${result.rows.length} row(s); read ${result.rows_read}, written ${result.rows_written}`,
            result.rolled_back ? " — read-only: any change was rolled back" : ""),
          resultTable(result, "sql-result-table"));
      } catch (err) { output.replaceChildren(h("p", { class: "error" }, err.message)); }
    } }, query,
      h("div", { class: "toolbar" }, h("label", { class: "inline" }, allowWrites, "Allow writes (off: every change is rolled back)"),
        h("button", { type: "submit", class: "primary", id: "sql-run" }, "Run"))),
    output);
}

// -- locations -------------------------------------------------------------------------------

async function locationsView() {
  render(h("h1", {}, "Locations"), h("p", { class: "muted" }, "Loading…"));
  let data;
  try {
    data = await call(`${MANAGEMENT}/locations`);
  } catch (err) {
    if (err.status === 404) {
      render(h("h1", {}, "Locations"), h("div", { class: "panel", id: "single-location" },
        h("p", {}, h("strong", {}, "Single location. "), "This server is the only location: every read goes to its store, ",
          "so there is no edge cache to inspect.")));
      return;
    }
    render(failureView(err, "locations"));
    return;
  }
  const locations = data.result || [];
  const keyForm = h("form", { class: "toolbar", onsubmit: async (e) => {
    e.preventDefault();
    const out = $("#cache-state");
    try {
      const params = new URLSearchParams({ namespace: e.target.namespace.value, key: e.target.key.value });
      const rows = (await call(`${MANAGEMENT}/locations/cache?${params}`)).result || [];
      out.replaceChildren(h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, h("th", {}, "Location"), h("th", {}, "State"), h("th", { class: "num" }, "Age (s)"))),
        h("tbody", {}, rows.map((r) => h("tr", {}, h("td", {}, r.location), h("td", {}, r.state),
          h("td", { class: "num" }, r.age_seconds ?? "")))))));
    } catch (err) { out.replaceChildren(h("p", { class: "error" }, err.message)); }
  } }, h("input", { name: "namespace", placeholder: "namespace id", required: true }),
    h("input", { name: "key", placeholder: "key", required: true, class: "grow" }), h("button", { type: "submit" }, "Show cached state"));
  render(h("h1", {}, "Locations"), h("div", { class: "table-wrap" }, h("table", { id: "locations" },
    h("thead", {}, h("tr", {}, h("th", {}, "Location"), h("th", { class: "num" }, "Cached keys"), h("th", { class: "num" }, "Cache size"),
      h("th", { class: "num" }, "Hit ratio"), h("th", { class: "num" }, "Invalidation lag"))),
    h("tbody", {}, locations.map((l) => h("tr", {}, h("td", {}, l.name || l.id),
      h("td", { class: "num" }, l.cache_entries ?? ""), h("td", { class: "num" }, l.cache_bytes != null ? formatBytes(l.cache_bytes) : ""),
      h("td", { class: "num" }, l.hit_ratio != null ? `${(l.hit_ratio * 100).toFixed(1)} %` : ""),
      h("td", { class: "num" }, l.invalidation_lag_ms != null ? `${l.invalidation_lag_ms} ms` : "")))))),
    h("h2", {}, "A key's cached state"), keyForm, h("div", { id: "cache-state" }));
}

// -- routing ---------------------------------------------------------------------------------

async function route() {
  if (!state.session && !await loadSession()) return;
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query);
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const view = parts[0] || "kv";
  document.querySelectorAll(".top nav a").forEach((a) => {
    if (a.dataset.view === view) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  });
  if (view === "kv" && parts.length <= 1) await namespacesView();
  else if (view === "kv") await namespaceView(parts[1]);
  else if (view === "do" && parts.length <= 1) await doNamespacesView();
  else if (view === "do" && parts.length === 2) await doObjectsView(parts[1]);
  else if (view === "do") await doObjectView(parts[1], parts[2], params.get("name"), params.get("tab"));
  else if (view === "locations") await locationsView();
  else render(h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/kv" }, "Back to KV namespaces")));
  document.title = `${$("h1") ? $("h1").textContent : "edgekv"} · edgekv explorer`;
}

function start() {
  $("#login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("#login-token").value.trim());
    $("#login-token").value = "";
    state.session = null;
    $("#login").close();
    route();
  });
  $("#login").addEventListener("cancel", (e) => e.preventDefault());
  $("#signout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    state.session = null;
    route();
  });
  $("#account").addEventListener("change", (e) => {
    state.account = e.target.value;
    sessionStorage.setItem("edgekv-explorer-account", state.account);
    location.hash = "#/kv";
    route();
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "/" && !["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName)) {
      const search = $("#prefix");
      if (search) { e.preventDefault(); search.focus(); }
    }
  });
  window.addEventListener("hashchange", route);
  route();
}

start();
