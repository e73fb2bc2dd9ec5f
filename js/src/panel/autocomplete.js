// Slash-command autocomplete: given the input text and cursor, what could come next.
// Pure logic (no DOM): commands, strategy ids and names, template names, template and rule
// strategy parameters, order options, and inside a rule (entry="..."): the rule language's
// functions and fields and the `$params` of the strategy being typed -- each with a usage hint,
// from the `commands`, `strategies` and `templates` traitlets and the kernel's constants (in
// the server's order; the panel keeps no list of its own). Python strategies hosted in members'
// notebooks are `strategies` items with `kind: "python"` and their own `params`.
import { constants, orderOptions, ruleLanguage } from "../constants.js";

/** The hint shown before the server has sent its commands. */
export const CONNECTING = "connecting… the commands appear once the server answers";

/** Options of /create_strategy that hold a rule (their values are expressions). */
const RULE_KEYS = ["entry", "exit", "short_entry", "short_exit", "where"];
const RULE_DOCS = {
  name: "the strategy's name (1-64 characters); run it by name: /run_backtest <name>",
  entry: 'condition to go long, checked at each close, e.g. "rsi(14) < 30 and close > sma(200)"',
  exit: 'condition to close the long, e.g. "rsi(14) > 70"',
  short_entry: "condition to go short (with short_exit)",
  short_exit: "condition to cover a short (with short_entry)",
  where: 'a condition on $params only; sweeps skip combinations where it is false, e.g. "$fast < $slow"',
  description: "a line about the strategy",
};
const SWEEP_KEYS = [
  { name: "split", doc: "YYYY-MM-DD: also backtest every combination from that date on (oos_* columns)" },
  { name: "sort", doc: "the column to rank by, e.g. sharpe or oos_sharpe" },
];

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
    else if (p.length > 1 && l.includes(p)) contains.push(o); // one letter: prefixes only
  }
  return starts.concat(contains).slice(0, 50);
}

function paramDesc(p) {
  const bits = [p.type, p.default !== undefined && p.default !== null ? `default ${p.default}` : null];
  if (p.min !== undefined && p.min !== null && p.max !== undefined && p.max !== null) bits.push(`${p.min}..${p.max}`);
  return bits.filter(Boolean).join(", ") + (p.doc ? ` — ${p.doc}` : "");
}

/** Text as shell-like tokens `{raw, start, key, value}` (quotes group words; `key=value`
 *  splits at the first `=`), and whether it ends outside a token (after a space). */
export function tokenize(text) {
  const tokens = [];
  let cur = null;
  let quote = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === quote) quote = null;
      cur.raw += ch;
    } else if (/\s/.test(ch)) {
      if (cur) tokens.push(cur);
      cur = null;
    } else {
      if (!cur) cur = { start: i, raw: "" };
      if (ch === '"' || ch === "'") quote = ch;
      cur.raw += ch;
    }
  }
  if (cur) tokens.push(cur);
  for (const t of tokens) {
    const eq = t.raw.indexOf("=");
    t.key = eq > 0 ? t.raw.slice(0, eq) : null;
    t.value = (eq > 0 ? t.raw.slice(eq + 1) : t.raw).replace(/["']/g, "");
  }
  return { tokens, ended: !quote && /\s$/.test(text) };
}

/** `$names` used in rule texts, in order of first use. */
function dollarParams(texts) {
  const seen = [];
  for (const t of texts) {
    for (const m of String(t).matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)) if (!seen.includes(m[1])) seen.push(m[1]);
  }
  return seen;
}

/** The innermost function call still open at the end of `expr` (to show its signature). */
function openCall(expr) {
  const stack = [];
  for (const m of expr.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*\(|\(|\)/g)) {
    if (m[0] === ")") stack.pop();
    else stack.push(m[1] || null);
  }
  for (let i = stack.length - 1; i >= 0; i--) if (stack[i]) return stack[i];
  return null;
}

/** Inside a rule being typed (`token` is `entry="rsi(14) < 3`): functions and fields, or the
 *  strategy's `$params` after a `$`; the hint is the open call's signature or the key's doc. */
function inRule(token, tokens, cursor) {
  const lang = ruleLanguage();
  const value = token.raw.slice(token.key.length + 1).replace(/^["']/, "");
  const frag = value.match(/\$?[A-Za-z_][A-Za-z0-9_]*$|\$$/)?.[0] || "";
  const fn = (lang.functions || []).find((f) => f.name === openCall(value.slice(0, value.length - frag.length)));
  const fields = (lang.fields || []).join(" ");
  const hint = fn
    ? `${fn.signature} — ${fn.doc}`
    : `${token.key}: ${RULE_DOCS[token.key]}. Fields ${fields}; + - * /, < > ==, and or not, lookback close[1]`;
  let options;
  if (frag.startsWith("$")) {
    const given = Object.fromEntries(tokens.filter((t) => t.key).map((t) => [t.key, t.value]));
    const texts = tokens.filter((t) => RULE_KEYS.includes(t.key)).map((t) => t.value);
    options = dollarParams(texts)
      .filter((p) => `$${p}` !== frag || texts.join(" ").split(frag).length > 2)
      .map((p) => ({
        label: `$${p}`,
        insert: `$${p}`,
        desc: given[p] !== undefined ? `parameter, default ${given[p]}` : `parameter (give its default: ${p}=…)`,
      }));
  } else {
    const fns = (lang.functions || []).map((f) => ({
      label: f.name,
      insert: `${f.name}(`,
      desc: `${f.signature} — ${f.doc}`,
    }));
    const flds = (lang.fields || []).map((f) => ({ label: f, insert: f, desc: "price field, this bar" }));
    const words = frag ? ["and", "or", "not"].map((w) => ({ label: w, insert: `${w} `, desc: "operator" })) : [];
    options = fns.concat(flds, words);
  }
  return { hint, options: matchSort(options, frag), from: cursor - frag.length, to: cursor };
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
  const { tokens: all, ended } = tokenize(before);
  const last = all.length && !ended ? all[all.length - 1] : null;
  const partialStart = last ? last.start : cursor;
  const partial = last ? last.raw : "";
  const tokens = last ? all.slice(0, -1) : all;
  const base = { from: partialStart, to: cursor };
  const common = commonKeys();
  const orders = orderOptions();

  if (tokens.length === 0) {
    const options = commands.map((c) => ({ label: `/${c.name}`, insert: `/${c.name} `, desc: c.summary || "" }));
    const found = matchSort(options, partial);
    const exact = commands.find((c) => `/${c.name}` === partial.toLowerCase());
    const hint =
      exact?.usage || (found.length === 1 ? commands.find((c) => `/${c.name}` === found[0].label)?.usage : "") || "";
    return { ...base, hint, options: found };
  }

  const name = tokens[0].raw.slice(1).toLowerCase();
  const spec = commands.find((c) => c.name === name);
  const hint = spec
    ? `${spec.usage}${spec.summary ? `  —  ${spec.summary}` : ""}`
    : `unknown command /${name} — type /help`;
  const args = tokens.slice(1);
  const positional = args.filter((a) => !a.key).map((a) => a.value);
  const usedKeys = new Set(args.filter((a) => a.key).map((a) => a.key));
  const keyOption = (k, sweep, params) => ({
    label: `${k.name}=`,
    insert: RULE_KEYS.includes(k.name) ? `${k.name}="` : `${k.name}=`,
    desc: sweep && params?.includes(k) ? `lo:hi:step — ${paramDesc(k)}` : k.type ? paramDesc(k) : k.doc,
  });
  const kind = (s) => (s.rule ? "rule" : s.template);
  const hostedDesc = (s) =>
    [`hosted by ${s.hostedBy}`, s.version, s.online ? "" : "not connected", s.private ? "private" : ""]
      .filter(Boolean)
      .join(" · ");
  const strategyOptions = () =>
    strategies
      .map((s) => ({
        label: String(s.id),
        insert: `${s.id} `,
        desc: s.kind === "python" ? hostedDesc(s) : [s.name, kind(s), s.symbol].filter(Boolean).join(" · "),
      }))
      .concat(
        // stored strategies are addressed by name too (a one-word name is typed without
        // quotes): offered once the name is being typed, so the list is not doubled
        strategies
          .filter((s) => partial && s.kind !== "python" && s.name && !/[\s="']/.test(s.name))
          .map((s) => ({
            label: s.name,
            insert: `${s.name} `,
            desc: [s.id, kind(s), s.symbol].filter(Boolean).join(" · "),
          })),
      );
  const templateOptions = () =>
    templates.map((t) => ({ label: t.name, insert: `${t.name} `, desc: t.description || "template" }));
  const ruleParams = (s) =>
    Object.entries(s.rule.params || {}).map(([n, p]) => {
      const d = s.params?.[n] ?? p?.default;
      return {
        name: n,
        type: Number.isInteger(d) ? "int" : "float",
        default: d,
        min: p?.min,
        max: p?.max,
        doc: p?.doc,
      };
    });
  const templateOf = (tok) => {
    if (!tok) return null;
    const low = tok.toLowerCase();
    const s = strategies.find(
      (x) =>
        x.id === tok || (x.kind === "python" ? tok.startsWith(`${x.id}@`) : String(x.name || "").toLowerCase() === low),
    );
    if (s?.kind === "python") return s; // its own parameter specs
    if (s?.rule) return { name: s.name, description: s.rule.description, params: ruleParams(s) };
    const tname = s ? s.template : tok;
    return templates.find((t) => t.name === tname) || null;
  };
  const keyOptions = (tmpl, sweep, extra = []) =>
    [...common, ...orders, ...extra, ...(tmpl?.params || [])]
      .filter((k) => !usedKeys.has(k.name))
      .map((k) => keyOption(k, sweep, tmpl?.params));
  // /create_strategy with rules: the keys a rule strategy takes, and the $params it still needs
  const ruleTexts = all.filter((t) => RULE_KEYS.includes(t.key)).map((t) => t.value);
  const ruleKeys = () => {
    const given = new Set(all.filter((t) => t.key).map((t) => t.key));
    const needed = dollarParams(ruleTexts)
      .filter((p) => !given.has(p))
      .map((p) => ({ name: p, doc: `default of $${p} (the rules use it)` }));
    const own = ["name", ...RULE_KEYS, "description"].map((k) => ({ name: k, doc: RULE_DOCS[k] }));
    const place = common.filter((k) => ["symbol", "start", "end"].includes(k.name));
    return [...needed, ...own, ...place, ...orders].filter((k) => !usedKeys.has(k.name));
  };

  if (last?.key && RULE_KEYS.includes(last.key) && name === "create_strategy") {
    const r = inRule(last, all, cursor);
    return { ...r, hint: `${hint}\n${r.hint}` };
  }
  if (partial.includes("=")) {
    // A value is being typed: show what the key expects.
    const key = partial.split("=")[0];
    const tmpl = templateOf(positional[0]);
    const known = [...common, ...orders, ...SWEEP_KEYS, ...(tmpl?.params || [])];
    if (name === "create_strategy") known.unshift(...ruleKeys(), { name: "name", doc: RULE_DOCS.name });
    const p = known.find((k) => k.name === key);
    const valueHint = p
      ? `${key}: ${p.type ? paramDesc(p) : p.doc}`
      : `${key}: not a parameter of ${tmpl?.name || "this command"}`;
    return { ...base, hint: `${hint}\n${valueHint}`, options: [] };
  }
  let options = [];
  switch (name) {
    case "run_backtest":
      options =
        positional.length === 0
          ? strategyOptions().concat(templateOptions())
          : keyOptions(templateOf(positional[0]), false);
      break;
    case "compare_strategies": {
      options = strategyOptions().filter((o) => !positional.includes(o.label));
      if (positional.length >= 2) {
        const keys = [...common.filter((k) => k.name === "start" || k.name === "end"), ...orders];
        options = options.concat(keys.filter((k) => !usedKeys.has(k.name)).map((k) => keyOption(k, false)));
      }
      break;
    }
    case "sweep":
      options =
        positional.length === 0
          ? templateOptions().concat(strategyOptions())
          : keyOptions(templateOf(positional[0]), true, SWEEP_KEYS);
      break;
    case "create_strategy":
      if (ruleTexts.length) options = ruleKeys().map((k) => keyOption(k, false));
      else if (positional.length === 0)
        options = templateOptions().concat(
          ["name", "entry", "exit"].map((k) => keyOption({ name: k, doc: RULE_DOCS[k] }, false)),
        );
      else
        options = keyOptions(templateOf(positional[0]), false, [{ name: "name", doc: RULE_DOCS.name }]).filter(
          (o) => !["cash=", "commission=", "spread="].includes(o.label),
        );
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
