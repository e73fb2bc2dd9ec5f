// Slash-command autocomplete: given the input text and cursor, what could come next.
// Pure logic (no DOM): commands, strategy ids, template names and template parameters, each
// with a usage hint, from the `commands`, `strategies` and `templates` traitlets (in the
// server's order; the panel keeps no list of its own). Python strategies hosted in members'
// notebooks are `strategies` items with `kind: "python"` and their own `params`.
import { constants } from "../constants.js";

/** The hint shown before the server has sent its commands. */
export const CONNECTING = "connecting… the commands appear once the server answers";

/** Options every backtest command takes; the default cash is the kernel's (constants.js). */
function commonKeys() {
  const cash = constants().defaultCash;
  return [
    { name: "symbol", doc: "data symbol, e.g. GOOG" },
    { name: "start", doc: "first date, YYYY-MM-DD" },
    { name: "end", doc: "last date, YYYY-MM-DD" },
    {
      name: "cash",
      doc: Number.isFinite(cash) ? `starting equity, default ${cash.toLocaleString("en-US")}` : "starting equity",
    },
    { name: "commission", doc: "fraction of traded notional per fill, e.g. 0.001" },
    { name: "spread", doc: "bid-ask spread, a fraction of price paid on entry, e.g. 0.0002" },
  ];
}

function matchSort(options, partial) {
  const p = partial.toLowerCase();
  const starts = [];
  const contains = [];
  for (const o of options) {
    const l = o.label.toLowerCase();
    if (l.startsWith(p)) starts.push(o);
    else if (p && l.includes(p)) contains.push(o);
  }
  return starts.concat(contains).slice(0, 50);
}

function paramDesc(p) {
  const bits = [p.type, p.default !== undefined && p.default !== null ? `default ${p.default}` : null];
  if (p.min !== undefined && p.min !== null && p.max !== undefined && p.max !== null) bits.push(`${p.min}..${p.max}`);
  return bits.filter(Boolean).join(", ") + (p.doc ? ` — ${p.doc}` : "");
}

/**
 * Suggestions for `text` with the cursor at `cursor`.
 * @returns {{hint: string, options: {label, insert, desc}[], from: number, to: number} | null}
 */
export function suggest(text, cursor, ctx) {
  const before = text.slice(0, cursor);
  if (!before.startsWith("/") || before.includes("\n")) return null;
  const commands = ctx.commands || [];
  if (!commands.length) {
    // the server's command specs have not arrived yet (e.g. before the first connect)
    return { hint: CONNECTING, options: [], from: before.search(/\S*$/), to: cursor };
  }
  const strategies = ctx.strategies || [];
  const templates = ctx.templates || [];
  const partialStart = before.search(/\S*$/);
  const partial = before.slice(partialStart);
  const tokens = before.slice(0, partialStart).trim().split(/\s+/).filter(Boolean);
  const base = { from: partialStart, to: cursor };
  const common = commonKeys();

  if (tokens.length === 0) {
    const options = commands.map((c) => ({ label: `/${c.name}`, insert: `/${c.name} `, desc: c.summary || "" }));
    const found = matchSort(options, partial);
    const exact = commands.find((c) => `/${c.name}` === partial.toLowerCase());
    const hint =
      exact?.usage || (found.length === 1 ? commands.find((c) => `/${c.name}` === found[0].label)?.usage : "") || "";
    return { ...base, hint, options: found };
  }

  const name = tokens[0].slice(1).toLowerCase();
  const spec = commands.find((c) => c.name === name);
  const hint = spec
    ? `${spec.usage}${spec.summary ? `  —  ${spec.summary}` : ""}`
    : `unknown command /${name} — type /help`;
  const args = tokens.slice(1);
  const positional = args.filter((a) => !a.includes("="));
  const usedKeys = new Set(args.filter((a) => a.includes("=")).map((a) => a.split("=")[0]));
  const hostedDesc = (s) =>
    [`hosted by ${s.hostedBy}`, s.version, s.online ? "" : "not connected", s.private ? "private" : ""]
      .filter(Boolean)
      .join(" · ");
  const strategyOptions = () =>
    strategies.map((s) => ({
      label: String(s.id),
      insert: `${s.id} `,
      desc: s.kind === "python" ? hostedDesc(s) : [s.name, s.template, s.symbol].filter(Boolean).join(" · "),
    }));
  const hostedOptions = () => strategyOptions().filter((_, i) => strategies[i].kind === "python");
  const templateOptions = () =>
    templates.map((t) => ({ label: t.name, insert: `${t.name} `, desc: t.description || "template" }));
  const templateOf = (tok) => {
    if (!tok) return null;
    const s = strategies.find((x) => x.id === tok || (x.kind === "python" && tok.startsWith(`${x.id}@`)));
    if (s?.kind === "python") return s; // its own parameter specs
    const tname = s ? s.template : tok;
    return templates.find((t) => t.name === tname) || null;
  };
  const keyOptions = (tmpl, sweep) => {
    const keys = [...common, ...(tmpl?.params || [])].filter((k) => !usedKeys.has(k.name));
    return keys.map((k) => ({
      label: `${k.name}=`,
      insert: `${k.name}=`,
      desc: sweep && tmpl?.params?.includes(k) ? `lo:hi:step — ${paramDesc(k)}` : k.type ? paramDesc(k) : k.doc,
    }));
  };
  let options = [];
  if (partial.includes("=")) {
    // A value is being typed: show what the key expects.
    const key = partial.split("=")[0];
    const tmpl = templateOf(positional[0]);
    const p = [...common, ...(tmpl?.params || [])].find((k) => k.name === key);
    const valueHint = p
      ? `${key}: ${p.type ? paramDesc(p) : p.doc}`
      : `${key}: not a parameter of ${tmpl?.name || "this command"}`;
    return { ...base, hint: `${hint}\n${valueHint}`, options: [] };
  }
  switch (name) {
    case "run_backtest":
      options =
        positional.length === 0
          ? strategyOptions().concat(templateOptions())
          : keyOptions(templateOf(positional[0]), false);
      break;
    case "compare_strategies":
      options = strategyOptions().filter((o) => !positional.includes(o.label));
      break;
    case "sweep":
      options =
        positional.length === 0
          ? templateOptions().concat(hostedOptions())
          : keyOptions(templateOf(positional[0]), true);
      break;
    case "cancel":
    case "result":
      options = (ctx.runs || []).map((r) => ({
        label: r.runId,
        insert: `${r.runId} `,
        desc: `${r.status || ""} ${Math.round(r.progress || 0)} %`,
      }));
      break;
    case "help":
      options =
        positional.length === 0 ? commands.map((c) => ({ label: c.name, insert: c.name, desc: c.summary || "" })) : [];
      break;
    default:
      options = [];
  }
  return { ...base, hint, options: matchSort(options, partial) };
}
