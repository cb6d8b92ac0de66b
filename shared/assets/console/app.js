// The registry console: plain script, no dependency. It calls the public API only, with
// the token pasted at sign-in, kept in this tab's sessionStorage and sent only as
// `Authorization: Bearer`. Every value is put in the page as text (text nodes and
// textContent only, never parsed as HTML).
"use strict";

const T = {
  fr: {
    title: "Registre de preuve de covoiturage", signin: "Se connecter", signout: "Se déconnecter",
    token: "Jeton", operatorId: "Numéro d'opérateur (administrateur d'opérateur)",
    badToken: "Jeton refusé : il est erroné ou a été révoqué. Reconnectez-vous avec un jeton valide.",
    noRole: "Ce jeton n'ouvre aucune page de la console.", signedOut: "Vous êtes déconnecté.",
    tokens: "Jetons d'application", journeys: "Trajets", statement: "Relevé mensuel",
    operators: "Opérateurs", campaigns: "Campagnes", name: "Nom", permissions: "Permissions",
    create: "Créer", revoke: "Révoquer", revoked: "révoqué", confirmRevoke: "Révoquer ce jeton ? Les appels qui l'utilisent seront refusés.",
    shownOnce: "Copiez ce jeton maintenant : il ne sera plus jamais affiché.", copy: "Copier", copied: "Copié",
    from: "Du", to: "Au", status: "Statut", all: "Tous", filter: "Filtrer", next: "Page suivante",
    csv: "Télécharger en CSV", start: "Départ", labels: "Signalements", incentives: "Incitations",
    month: "Mois", show: "Afficher", total: "Total", paid: "Payé", net: "Net", final: "Définitif",
    siret: "SIRET", id: "Id", created: "Créé le", role: "Rôle", document: "Document", versions: "Versions",
    upload: "Envoyer un document de campagne", file: "Fichier JSON", update: "Mettre à jour la campagne existante",
    invalidFile: "Ce fichier n'est pas du JSON.", refused: "Document refusé :", saved: "Campagne enregistrée.",
    close: "Clore la campagne", confirmClose: "Clore cette campagne ? Plus aucun trajet ne sera éligible.",
    perDay: "Montant cumulé par jour et budget", budget: "Budget", drafts: "Brouillons", amount: "Montant",
    day: "Jour", lines: "Lignes", none: "Aucun résultat.", error: "Erreur", period: "Période",
    updated: "Mis à jour le", anomalies: "Anomalies", frauds: "Fraude", cap: "Plafond", reason: "Raison",
    caps: "Plafonds qui ont réduit les montants", reasons: "Principales raisons de non-paiement",
  },
  en: {
    title: "Carpool proof registry", signin: "Sign in", signout: "Sign out",
    token: "Token", operatorId: "Operator number (operator administrators)",
    badToken: "Token refused: it is wrong or was revoked. Sign in again with a valid token.",
    noRole: "This token opens no page of the console.", signedOut: "You are signed out.",
    tokens: "Application tokens", journeys: "Journeys", statement: "Monthly statement",
    operators: "Operators", campaigns: "Campaigns", name: "Name", permissions: "Permissions",
    create: "Create", revoke: "Revoke", revoked: "revoked", confirmRevoke: "Revoke this token? Calls using it will be refused.",
    shownOnce: "Copy this token now: it will never be shown again.", copy: "Copy", copied: "Copied",
    from: "From", to: "To", status: "Status", all: "All", filter: "Filter", next: "Next page",
    csv: "Download CSV", start: "Start", labels: "Labels", incentives: "Incentives",
    month: "Month", show: "Show", total: "Total", paid: "Paid", net: "Net", final: "Final",
    siret: "SIRET", id: "Id", created: "Created", role: "Role", document: "Document", versions: "Versions",
    upload: "Upload a campaign document", file: "JSON file", update: "Update the existing campaign",
    invalidFile: "This file is not JSON.", refused: "Document refused:", saved: "Campaign saved.",
    close: "Close the campaign", confirmClose: "Close this campaign? No journey will be eligible any more.",
    perDay: "Cumulated amount per day and budget", budget: "Budget", drafts: "Drafts", amount: "Amount",
    day: "Day", lines: "Lines", none: "Nothing found.", error: "Error", period: "Period",
    updated: "Updated", anomalies: "Anomalies", frauds: "Fraud", cap: "Cap", reason: "Reason",
    caps: "Caps that reduced amounts", reasons: "Top reasons for not paying",
  },
};
const PERMISSIONS = ["journey.create", "journey.read", "journey.delete", "certificate.create",
  "certificate.read", "cee.simulate", "cee.register", "cee.import", "cee.read", "cee.delete"];
const STATUSES = ["pending", "ok", "expired", "anomaly_error", "fraud_error", "canceled"];
const store = window.sessionStorage;
let lang = store.getItem("lang") || "fr";
const t = (key) => T[lang][key] || key;

// ---------------------------------------------------------------- DOM helpers
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "on") for (const [ev, f] of Object.entries(v)) node.addEventListener(ev, f);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}
const main = () => document.getElementById("main");
function show(...nodes) { main().replaceChildren(...nodes); }
function message(text) {
  const m = document.getElementById("message");
  m.textContent = text || "";
  m.hidden = !text;
}
function table(headers, rows) {
  if (!rows.length) return el("p", {}, t("none"));
  return el("table", {}, el("thead", {}, el("tr", {}, headers.map((h) => el("th", {}, h)))),
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c) => el("td", {}, c))))));
}
function field(label, input) { return el("label", {}, label, input); }
const euros = (cents) => (cents / 100).toLocaleString(lang, { style: "currency", currency: "EUR" });

// ---------------------------------------------------------------- API
class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || `HTTP ${status}`);
    this.status = status;
    this.details = (body && body.error && body.error.details) || [];
  }
}
async function api(method, path, body, accept) {
  const headers = { Authorization: `Bearer ${store.getItem("token") || ""}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (accept) headers.Accept = accept;
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (r.status === 401) {
    forget();
    render();
    message(t("badToken"));
    throw new ApiError(401, null);
  }
  if (accept === "text/csv" && r.ok) return r.blob();
  const text = await r.text();
  const json = text ? JSON.parse(text) : null;
  if (!r.ok) throw new ApiError(r.status, json);
  return json;
}
async function download(path, name) {
  const blob = await api("GET", path, undefined, "text/csv");
  const a = el("a", { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
}
function failed(e) { if (e.status !== 401) message(`${t("error")}: ${e.message}`); }

// ---------------------------------------------------------------- session
function forget() { for (const k of ["token", "role", "operator"]) store.removeItem(k); }
async function roleOf() {
  const probe = async (path) => {
    try { await api("GET", path); return true; } catch (e) { if (e.status === 401) throw e; return false; }
  };
  if (await probe("/v2/operators")) return "registry_admin";
  if (await probe("/v2/journeys?limit=1")) return "operator";
  if (await probe("/v2/campaigns")) return "territory";
  return null;
}
function signInPage() {
  const token = el("input", { type: "password", name: "token", autocomplete: "off", required: true, size: 60 });
  const operator = el("input", { name: "operator", inputmode: "numeric", size: 8 });
  return el("form", { id: "signin", on: { submit: async (ev) => {
    ev.preventDefault();
    message("");
    store.setItem("token", token.value.trim());
    try {
      const role = await roleOf();
      if (!role) { forget(); message(t("noRole")); return; }
      store.setItem("role", role);
      if (operator.value.trim()) store.setItem("operator", operator.value.trim());
      location.hash = role === "operator" ? "#/journeys" : role === "registry_admin" ? "#/operators" : "#/campaigns";
      render();
    } catch (e) { failed(e); }
  } } }, field(t("token"), token), field(t("operatorId"), operator), el("button", { type: "submit" }, t("signin")));
}

// ---------------------------------------------------------------- operator pages
function tokensPage(operatorId, asRegistry) {
  const list = el("div", { id: "token-list" });
  const secret = el("div", { id: "new-token" });
  const load = async () => {
    const r = await api("GET", `/v2/operators/${encodeURIComponent(operatorId)}/applications`);
    list.replaceChildren(table([t("name"), t("role"), t("permissions"), t("created"), ""],
      r.applications.map((k) => [k.name, k.role, k.permissions.join(", "), k.created_at,
        k.revoked_at ? t("revoked") : el("button", { type: "button", class: "revoke", "data-id": k.token_id, on: { click: async () => {
          if (!window.confirm(t("confirmRevoke"))) return;
          try { await api("DELETE", `/v2/operators/${encodeURIComponent(operatorId)}/applications/${encodeURIComponent(k.token_id)}`); await load(); } catch (e) { failed(e); }
        } } }, t("revoke"))])));
  };
  const name = el("input", { name: "name", required: true });
  const boxes = PERMISSIONS.map((p) => el("input", { type: "checkbox", name: "permission", value: p, checked: true }));
  const role = asRegistry ? el("select", { name: "role" }, el("option", { value: "application" }, "application"),
    el("option", { value: "operator_admin" }, "operator_admin")) : null;
  const form = el("form", { id: "create-token", on: { submit: async (ev) => {
    ev.preventDefault();
    const body = { name: name.value, permissions: boxes.filter((b) => b.checked).map((b) => b.value) };
    if (role && role.value === "operator_admin") { body.role = "operator_admin"; delete body.permissions; }
    try {
      const created = await api("POST", `/v2/operators/${encodeURIComponent(operatorId)}/applications`, body);
      const value = el("code", { class: "secret", id: "secret" }, created.token);
      secret.replaceChildren(el("p", {}, t("shownOnce")), value, " ",
        el("button", { type: "button", id: "copy", on: { click: async (e) => {
          try { await navigator.clipboard.writeText(created.token); e.target.textContent = t("copied"); } catch (_) { window.getSelection().selectAllChildren(value); }
        } } }, t("copy")));
      name.value = "";
      await load();
    } catch (e) { failed(e); }
  } } }, field(t("name"), name), role && field(t("role"), role),
  el("fieldset", {}, el("legend", {}, t("permissions")), boxes.map((b, i) => el("label", {}, b, PERMISSIONS[i]))),
  el("button", { type: "submit" }, t("create")));
  show(el("h1", {}, `${t("tokens")} — ${t("operators")} ${operatorId}`), form, secret, list);
  load().catch(failed);
}

function labels(list) { return list.map((l) => el("span", { class: "label" }, l)); }

function journeyDetail(j) {
  const row = (k, v) => [t(k), v];
  show(el("p", {}, el("a", { href: "#/journeys", on: { click: (ev) => { ev.preventDefault(); journeysPage(); } } }, `← ${t("journeys")}`)),
    el("h1", { id: "journey-detail" }, j.journey_id),
    table(["", ""], [row("id", j.operator_journey_id || "—"), row("start", j.start), row("status", j.status),
      row("created", j.created_at), row("updated", j.updated_at), row("anomalies", labels(j.anomaly_labels)), row("frauds", labels(j.fraud_labels))]),
    el("h2", {}, t("incentives")),
    table([t("campaigns"), "role", t("status"), t("amount"), t("cap"), t("reason"), t("month")], j.incentives.map((i) =>
      [i.campaign_id, i.role, i.status, euros(i.amount), i.capped_by || "", i.reason || i.paid_by || "", i.month || ""])));
}

function journeysPage() {
  const from = el("input", { type: "date", name: "from" });
  const to = el("input", { type: "date", name: "to" });
  const status = el("select", { name: "status" }, el("option", { value: "" }, t("all")), STATUSES.map((s) => el("option", { value: s }, s)));
  const out = el("div", { id: "journeys" });
  const query = (cursor) => {
    const q = new URLSearchParams();
    if (from.value) q.set("from", from.value);
    if (to.value) q.set("to", to.value);
    if (status.value) q.set("status", status.value);
    if (cursor) q.set("cursor", cursor);
    return `/v2/journeys?${q}`;
  };
  const load = async (cursor) => {
    const page = await api("GET", query(cursor));
    out.replaceChildren(table([t("id"), t("start"), t("status"), t("labels"), t("incentives")],
      page.journeys.map((j) => [el("a", { href: "#", class: "journey", on: { click: (ev) => { ev.preventDefault(); journeyDetail(j); } } }, j.journey_id),
        j.start, j.status, labels([...j.anomaly_labels, ...j.fraud_labels]),
        j.incentives.map((i) => el("div", {}, `${i.campaign_id} (${i.role}) ${i.status} ${euros(i.amount)}`))])),
    page.next_cursor ? el("button", { type: "button", id: "next", on: { click: () => load(page.next_cursor).catch(failed) } }, t("next")) : "");
  };
  show(el("h1", {}, t("journeys")),
    el("form", { id: "journey-filter", on: { submit: (ev) => { ev.preventDefault(); load().catch(failed); } } },
      field(t("from"), from), field(t("to"), to), field(t("status"), status),
      el("button", { type: "submit" }, t("filter")),
      el("button", { type: "button", on: { click: () => download(query(), "journeys.csv").catch(failed) } }, t("csv"))),
    out);
  load().catch(failed);
}

function statementPage(operatorId) {
  const month = el("input", { type: "month", name: "month", required: true, value: new Date().toISOString().slice(0, 7) });
  const out = el("div", { id: "statement" });
  const path = () => `/v2/operators/${encodeURIComponent(operatorId)}/incentives?month=${month.value}`;
  const load = async () => {
    const s = await api("GET", path());
    out.replaceChildren(el("p", {}, `${t("final")}: ${s.final} — ${t("paid")}: ${euros(s.totals.paid.amount)} (${s.totals.paid.count}) — ${t("net")}: ${euros(s.totals.net.amount)}`),
      table([t("campaigns"), t("id"), "role", t("status"), t("amount")], s.lines.map((l) => [l.campaign_id, l.journey_id, l.role, l.status, euros(l.amount)])));
  };
  show(el("h1", {}, t("statement")), el("form", { on: { submit: (ev) => { ev.preventDefault(); load().catch(failed); } } },
    field(t("month"), month), el("button", { type: "submit" }, t("show")),
    el("button", { type: "button", on: { click: () => download(path(), `statement-${month.value}.csv`).catch(failed) } }, t("csv"))), out);
  load().catch(failed);
}

// ---------------------------------------------------------------- registry admin
function operatorsPage() {
  const out = el("div", { id: "operators" });
  const load = async () => {
    const r = await api("GET", "/v2/operators");
    out.replaceChildren(table([t("id"), t("name"), t("siret"), t("created"), ""], r.operators.map((o) =>
      [String(o.id), o.name, o.siret || "", o.created_at, el("a", { href: `#/operators/${o.id}/tokens` }, t("tokens"))])));
  };
  const name = el("input", { name: "name", required: true });
  const siret = el("input", { name: "siret", pattern: "[0-9]{14}" });
  show(el("h1", {}, t("operators")), el("form", { id: "create-operator", on: { submit: async (ev) => {
    ev.preventDefault();
    try { await api("POST", "/v2/operators", siret.value ? { name: name.value, siret: siret.value } : { name: name.value }); name.value = ""; await load(); } catch (e) { failed(e); }
  } } }, field(t("name"), name), field(t("siret"), siret), el("button", { type: "submit" }, t("create"))), out);
  load().catch(failed);
}

// ---------------------------------------------------------------- campaigns
function uploadForm(done) {
  const file = el("input", { type: "file", name: "file", accept: "application/json,.json", required: true });
  const update = el("input", { type: "checkbox", name: "update" });
  const result = el("div", { id: "upload-result" });
  return el("div", {}, el("h2", {}, t("upload")), el("form", { id: "upload", on: { submit: async (ev) => {
    ev.preventDefault();
    let doc;
    try { doc = JSON.parse(await file.files[0].text()); } catch (_) { result.replaceChildren(el("p", { class: "error" }, t("invalidFile"))); return; }
    try {
      if (update.checked) await api("PUT", `/v2/campaigns/${encodeURIComponent(doc.id)}`, doc);
      else await api("POST", "/v2/campaigns", doc);
      result.replaceChildren(el("p", {}, t("saved")));
      done();
    } catch (e) {
      if (e.status === 401) return;
      result.replaceChildren(el("p", { class: "error" }, `${t("refused")} ${e.message}`),
        el("ul", { class: "errors" }, e.details.map((d) => el("li", {}, el("code", {}, d.path || "/"), " ", d.reason))));
    }
  } } }, field(t("file"), file), el("label", {}, update, t("update")), el("button", { type: "submit" }, t("create"))), result);
}

function campaignsPage() {
  const out = el("div", { id: "campaigns" });
  const load = async () => {
    const r = await api("GET", "/v2/campaigns");
    out.replaceChildren(table([t("id"), t("name"), t("status"), t("period"), "v"], r.campaigns.map((c) =>
      [el("a", { href: `#/campaigns/${encodeURIComponent(c.id)}` }, c.id), c.name, c.status, `${c.start} → ${c.end}`, String(c.version)])));
  };
  show(el("h1", {}, t("campaigns")), out, store.getItem("role") === "registry_admin" ? uploadForm(() => load().catch(failed)) : "");
  load().catch(failed);
}

function campaignPage(id) {
  const out = el("div", { id: "campaign" });
  const load = async () => {
    const c = await api("GET", `/v2/campaigns/${encodeURIComponent(id)}`);
    out.replaceChildren(el("h1", {}, c.name), el("p", {}, `${c.id} — ${c.territory_name} — ${c.status} — ${c.start} → ${c.end} — v${c.version}`),
      el("p", {}, el("a", { href: `#/campaigns/${encodeURIComponent(id)}/month` }, t("perDay"))),
      store.getItem("role") === "registry_admin" && c.status !== "closed" ? el("button", { type: "button", id: "close", on: { click: async () => {
        if (!window.confirm(t("confirmClose"))) return;
        try { await api("POST", `/v2/campaigns/${encodeURIComponent(id)}/close`, {}); await load(); } catch (e) { failed(e); }
      } } }, t("close")) : "",
      el("h2", {}, t("versions")), table(["v", t("created")], (c.history || []).map((h) => [String(h.version), h.created_at || h.updated_at || ""])),
      el("h2", {}, t("document")), el("pre", {}, JSON.stringify(c.document, null, 2)));
  };
  show(out);
  load().catch(failed);
}

function budgetOf(doc) {
  const cap = ((doc && doc.caps) || []).find((c) => c.kind === "budget");
  return cap ? cap.max : null;
}

function chart(days, budget) {
  const NS = "http://www.w3.org/2000/svg";
  const svg = (tag, attrs, text) => {
    const n = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
    if (text !== undefined) n.textContent = text;
    return n;
  };
  const W = 700, H = 260, left = 60, bottom = 30;
  let sum = 0;
  const cumulated = days.map(([day, amount, final]) => { sum += amount; return [day, sum, final]; });
  const top = Math.max(sum, budget || 0, 1);
  const y = (v) => H - bottom - (v / top) * (H - bottom - 10);
  const w = (W - left) / Math.max(days.length, 1);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, id: "budget-chart", role: "img" });
  root.append(svg("title", {}, t("perDay")));
  // Days to come get no bar: the cumulated amount is not carried into the future.
  const today = new Date().toISOString().slice(0, 10);
  const last = days.length - 1;
  cumulated.forEach(([day, value, final], i) => {
    if (value > 0 && day <= today) root.append(svg("rect", { class: final ? "bar final" : "bar", x: left + i * w + 1, y: y(value), width: Math.max(w - 2, 1), height: H - bottom - y(value) }));
    // The last day's label ends at the right edge, so it is not cut off.
    if (i === last) root.append(svg("text", { x: W - 2, y: H - 10, "text-anchor": "end" }, day.slice(5)));
    else if (i % 5 === 0 && i < last - 2) root.append(svg("text", { x: left + i * w, y: H - 10 }, day.slice(5)));
  });
  if (budget !== null) {
    root.append(svg("line", { class: "budget", x1: left, x2: W, y1: y(budget), y2: y(budget) }));
    root.append(svg("text", { x: 2, y: y(budget) + 4 }, euros(budget)));
  }
  root.append(svg("text", { x: 2, y: y(sum) + 4 }, euros(sum)));
  return root;
}

function monthPage(id) {
  const month = el("input", { type: "month", name: "month", required: true, value: new Date().toISOString().slice(0, 7) });
  const out = el("div", { id: "month" });
  const path = (cursor) => `/v2/campaigns/${encodeURIComponent(id)}/incentives?month=${month.value}&limit=5000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
  const load = async () => {
    const c = await api("GET", `/v2/campaigns/${encodeURIComponent(id)}`);
    const perDay = new Map();
    let cursor = null, isFinal = false, count = 0;
    const caps = new Map(), reasons = new Map();
    const bump = (m, k) => { if (k) m.set(k, (m.get(k) || 0) + 1); };
    do {
      const page = await api("GET", path(cursor));
      isFinal = !!page.final;
      for (const l of page.incentives) {
        count += 1;
        bump(caps, l.capped_by);
        bump(reasons, l.reason || (l.status !== "draft" && l.status !== "validated" ? l.status : null));
        if (l.status === "canceled" || l.status === "not_eligible") continue;
        perDay.set(l.local_date, (perDay.get(l.local_date) || 0) + l.amount);
      }
      cursor = page.next_cursor;
    } while (cursor);
    // Every day of the month, so the chart's x axis is the month.
    const [yy, mm] = month.value.split("-").map(Number);
    const length = new Date(Date.UTC(yy, mm, 0)).getUTCDate();
    const all = Array.from({ length }, (_, i) => `${month.value}-${String(i + 1).padStart(2, "0")}`);
    const days = all.map((d) => [d, perDay.get(d) || 0, isFinal]);
    const paid = days.filter(([, a]) => a > 0);
    out.replaceChildren(el("p", {}, `${isFinal ? t("final") : t("drafts")} — ${t("lines")}: ${count} — ${t("budget")}: ${budgetOf(c.document) === null ? "—" : euros(budgetOf(c.document))}`),
      chart(days, budgetOf(c.document)),
      el("h2", {}, t("caps")), table([t("cap"), t("lines")], [...caps.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, String(n)])),
      el("h2", {}, t("reasons")), table([t("reason"), t("lines")], [...reasons.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([k, n]) => [k, String(n)])),
      el("h2", {}, t("perDay")), table([t("day"), t("amount")], paid.map(([d, a]) => [d, euros(a)])));
  };
  show(el("h1", {}, `${id} — ${t("perDay")}`), el("form", { on: { submit: (ev) => { ev.preventDefault(); load().catch(failed); } } },
    field(t("month"), month), el("button", { type: "submit" }, t("show")),
    el("button", { type: "button", on: { click: () => download(path(), `${id}-${month.value}.csv`).catch(failed) } }, t("csv"))), out);
  load().catch(failed);
}

// ---------------------------------------------------------------- navigation
function nav(role) {
  const op = store.getItem("operator");
  const links = {
    operator: [["#/journeys", "journeys"], ...(op ? [["#/tokens", "tokens"], ["#/statement", "statement"]] : [])],
    registry_admin: [["#/operators", "operators"], ["#/campaigns", "campaigns"]],
    territory: [["#/campaigns", "campaigns"]],
  }[role] || [];
  document.getElementById("nav").replaceChildren(...links.map(([href, key]) => el("a", { href }, t(key))));
}
function render() {
  document.documentElement.lang = lang;
  document.getElementById("lang").textContent = lang === "fr" ? "English" : "Français";
  for (const n of document.querySelectorAll("[data-t]")) n.textContent = t(n.dataset.t);
  const role = store.getItem("token") ? store.getItem("role") : null;
  document.getElementById("signout").hidden = !role;
  nav(role);
  if (!role) { show(el("h1", {}, t("signin")), signInPage()); return; }
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const op = store.getItem("operator");
  if (parts[0] === "tokens" && op) tokensPage(op, false);
  else if (parts[0] === "statement" && op) statementPage(op);
  else if (parts[0] === "operators" && parts[2] === "tokens") tokensPage(parts[1], true);
  else if (parts[0] === "operators") operatorsPage();
  else if (parts[0] === "campaigns" && parts[2] === "month") monthPage(parts[1]);
  else if (parts[0] === "campaigns" && parts[1]) campaignPage(parts[1]);
  else if (parts[0] === "campaigns") campaignsPage();
  else if (role === "operator") journeysPage();
  else if (role === "registry_admin") operatorsPage();
  else campaignsPage();
}
document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("signout").addEventListener("click", () => { forget(); location.hash = ""; render(); message(t("signedOut")); });
  document.getElementById("lang").addEventListener("click", () => { lang = lang === "fr" ? "en" : "fr"; store.setItem("lang", lang); render(); });
  window.addEventListener("hashchange", () => { message(""); render(); });
  render();
});
