// Styles of the chat panel, injected once per document (one bundle file, no separate CSS asset).
// Colours come from JupyterLab's --jp-* variables, so light and dark themes just work; every
// var() has a fallback for pages outside JupyterLab.

const UPLOT_CSS = `
/* uPlot 1.6 base rules (MIT, (c) Leon Sorokin), scoped to the panel */
.cow-root .uplot, .cow-root .uplot *, .cow-root .uplot *::before, .cow-root .uplot *::after {box-sizing: border-box;}
.cow-root .uplot {font-family: inherit; line-height: 1.5; width: min-content;}
.cow-root .u-wrap {position: relative; user-select: none;}
.cow-root .u-over, .cow-root .u-under {position: absolute;}
.cow-root .u-under {overflow: hidden;}
.cow-root .uplot canvas {display: block; position: relative; width: 100%; height: 100%;}
.cow-root .u-axis {position: absolute;}
.cow-root .u-legend {font-size: 11px; margin: auto; text-align: center;}
.cow-root .u-inline {display: block;}
.cow-root .u-inline * {display: inline-block;}
.cow-root .u-inline tr {margin-right: 12px;}
.cow-root .u-legend th {font-weight: 600;}
.cow-root .u-legend th > * {vertical-align: middle; display: inline-block;}
.cow-root .u-legend .u-marker {width: 1em; height: 1em; margin-right: 4px; background-clip: padding-box !important;}
.cow-root .u-inline.u-live th::after {content: ":"; vertical-align: middle;}
.cow-root .u-inline:not(.u-live) .u-value {display: none;}
.cow-root .u-series > * {padding: 2px;}
.cow-root .u-series th {cursor: pointer;}
.cow-root .u-legend .u-off > * {opacity: 0.3;}
.cow-root .u-select {background: rgba(127,127,127,0.15); position: absolute; pointer-events: none;}
.cow-root .u-cursor-x, .cow-root .u-cursor-y {position: absolute; left: 0; top: 0; pointer-events: none; will-change: transform;}
.cow-root .u-hz .u-cursor-x, .cow-root .u-vt .u-cursor-y {height: 100%; border-right: 1px dashed #607D8B;}
.cow-root .u-hz .u-cursor-y, .cow-root .u-vt .u-cursor-x {width: 100%; border-bottom: 1px dashed #607D8B;}
.cow-root .u-cursor-pt {position: absolute; top: 0; left: 0; border-radius: 50%; border: 0 solid; pointer-events: none; will-change: transform; background-clip: padding-box !important;}
.cow-root .u-axis.u-off, .cow-root .u-select.u-off, .cow-root .u-cursor-x.u-off, .cow-root .u-cursor-y.u-off, .cow-root .u-cursor-pt.u-off {display: none;}
`;

const PANEL_CSS = `
.cow-root {
  --cow-bg: var(--jp-layout-color1, #ffffff);
  --cow-bg2: var(--jp-layout-color2, #f3f3f3);
  --cow-fg: var(--jp-ui-font-color1, rgba(0,0,0,0.87));
  --cow-fg2: var(--jp-ui-font-color2, rgba(0,0,0,0.54));
  --cow-border: var(--jp-border-color1, #bdbdbd);
  --cow-primary: var(--jp-brand-color1, #1976d2);
  --cow-primary-fg: var(--jp-ui-inverse-font-color1, #ffffff);
  --cow-secondary: color-mix(in srgb, var(--jp-accent-color1, #9c27b0) 10%, var(--jp-layout-color1, #ffffff));
  --cow-secondary-accent: var(--jp-accent-color1, #9c27b0);
  --cow-warn: color-mix(in srgb, var(--jp-warn-color1, #ed6c02) 14%, var(--jp-layout-color1, #ffffff));
  --cow-warn-accent: var(--jp-warn-color1, #ed6c02);
  --cow-error: var(--jp-error-color1, #d32f2f);
  --cow-success: var(--jp-success-color1, #2e7d32);
  --cow-font: var(--jp-ui-font-family, system-ui, -apple-system, "Segoe UI", sans-serif);
  --cow-mono: var(--jp-code-font-family, ui-monospace, monospace);
  display: flex; flex-direction: column; height: 560px; min-height: 260px; resize: vertical;
  overflow: hidden; box-sizing: border-box; position: relative;
  font-family: var(--cow-font); font-size: var(--jp-ui-font-size1, 13px); color: var(--cow-fg);
  background: var(--cow-bg); border: 1px solid var(--cow-border); border-radius: 6px;
}
.cow-root * { box-sizing: border-box; }
.cow-root.cow-theme-dark { --cow-bg: #1e1e1e; --cow-bg2: #2a2a2a; --cow-fg: rgba(255,255,255,0.87);
  --cow-fg2: rgba(255,255,255,0.6); --cow-border: #555; --cow-secondary: #2f2838; --cow-warn: #3d2f1a; }
.cow-header { display: flex; align-items: center; gap: 8px; padding: 6px 8px; flex-wrap: wrap;
  border-bottom: 1px solid var(--cow-border); background: var(--cow-bg2); }
.cow-title { font-weight: 600; }
.cow-chip { display: inline-flex; align-items: center; gap: 4px; padding: 1px 8px; border-radius: 12px;
  font-size: 11px; border: 1px solid currentColor; }
.cow-chip::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: currentColor; }
.cow-chip.cow-connected { color: var(--cow-success); }
.cow-chip.cow-disconnected { color: var(--cow-error); }
.cow-session { font-family: var(--cow-mono); font-size: 11px; color: var(--cow-fg2); }
.cow-spacer { flex: 1; }
.cow-btn { font: inherit; font-size: 12px; padding: 2px 8px; border-radius: 4px; cursor: pointer;
  border: 1px solid var(--cow-border); background: var(--cow-bg); color: var(--cow-fg); }
.cow-btn:hover { border-color: var(--cow-primary); }
.cow-btn-primary { background: var(--cow-primary); color: var(--cow-primary-fg); border-color: var(--cow-primary); }
.cow-switcher { display: none; gap: 6px; align-items: center; padding: 6px 8px; flex-wrap: wrap;
  border-bottom: 1px solid var(--cow-border); background: var(--cow-bg2); }
.cow-switcher.cow-open { display: flex; }
.cow-switcher input { font: inherit; font-size: 12px; padding: 2px 6px; width: 220px;
  background: var(--cow-bg); color: var(--cow-fg); border: 1px solid var(--cow-border); border-radius: 4px; }
.cow-body { position: relative; flex: 1; min-height: 0; }
.cow-scroll { position: absolute; inset: 0; overflow-y: auto; overflow-x: hidden; overflow-anchor: none; }
.cow-spacer-inner { position: relative; width: 100%; }
.cow-row { position: absolute; left: 0; right: 0; padding: 4px 10px; display: flex; flex-direction: column; }
.cow-row.cow-user { align-items: flex-end; }
.cow-row.cow-assistant, .cow-row.cow-system, .cow-row.cow-notice { align-items: flex-start; }
.cow-bubble { max-width: 85%; padding: 6px 10px; border-radius: 10px; overflow-wrap: anywhere; line-height: 1.4; }
.cow-user .cow-bubble { background: var(--cow-primary); color: var(--cow-primary-fg); white-space: pre-wrap;
  border-bottom-right-radius: 2px; }
.cow-assistant .cow-bubble { background: var(--cow-secondary); color: var(--cow-fg);
  border-left: 3px solid var(--cow-secondary-accent); border-bottom-left-radius: 2px; }
.cow-system .cow-bubble, .cow-notice .cow-bubble { background: var(--cow-warn); color: var(--cow-fg);
  border-left: 3px solid var(--cow-warn-accent); white-space: pre-wrap; }
.cow-notice.cow-level-error .cow-bubble { border-left-color: var(--cow-error); }
.cow-bubble.cow-rich { max-width: 100%; width: 100%; }
.cow-md p { margin: 0 0 4px; } .cow-md p:last-child { margin-bottom: 0; }
.cow-md pre { background: var(--cow-bg2); padding: 6px; overflow-x: auto; border-radius: 4px; }
.cow-md code { font-family: var(--cow-mono); font-size: 0.95em; }
.cow-md table, .cow-table { border-collapse: collapse; font-size: 12px; margin: 4px 0; }
.cow-md th, .cow-md td, .cow-table th, .cow-table td { border: 1px solid var(--cow-border); padding: 2px 6px; text-align: right; }
.cow-metrics th { font-weight: 500; text-align: left; color: var(--cow-fg2); }
.cow-md th:first-child, .cow-md td:first-child, .cow-table th:first-child, .cow-table td:first-child { text-align: left; }
.cow-md img { max-width: 100%; }
.cow-meta { font-size: 10px; color: var(--cow-fg2); margin-top: 2px; }
.cow-empty { position: absolute; inset: 0; display: flex; flex-direction: column; align-items: center;
  justify-content: center; gap: 8px; padding: 16px; color: var(--cow-fg2); text-align: center; }
.cow-empty h3 { margin: 0; color: var(--cow-fg); font-size: 15px; }
.cow-examples { display: flex; flex-wrap: wrap; gap: 6px; justify-content: center; }
.cow-example { font-family: var(--cow-mono); font-size: 11px; }
.cow-jump { position: absolute; right: 14px; bottom: 8px; display: none; }
.cow-jump.cow-show { display: block; }
.cow-tray { border-top: 1px solid var(--cow-border); padding: 4px 8px; display: flex; flex-direction: column; gap: 4px; }
.cow-tray:empty { display: none; }
.cow-run { display: grid; grid-template-columns: minmax(80px, 200px) 1fr 48px auto; gap: 6px; align-items: center; font-size: 11px; }
.cow-run-label { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-family: var(--cow-mono); }
.cow-bar { height: 8px; border-radius: 4px; background: var(--cow-bg2); overflow: hidden; border: 1px solid var(--cow-border); }
.cow-bar-fill { height: 100%; width: 0; background: var(--cow-primary); transition: width 0.2s; }
.cow-run.cow-status-completed .cow-bar-fill { background: var(--cow-success); }
.cow-run.cow-status-failed .cow-bar-fill, .cow-run.cow-status-cancelled .cow-bar-fill { background: var(--cow-error); }
.cow-composer { position: relative; display: flex; gap: 6px; padding: 6px 8px; border-top: 1px solid var(--cow-border); align-items: flex-end; }
.cow-input { flex: 1; font: inherit; resize: none; min-height: 32px; max-height: 140px; padding: 6px 8px;
  border: 1px solid var(--cow-border); border-radius: 4px; background: var(--cow-bg); color: var(--cow-fg); }
.cow-input:focus { outline: 1px solid var(--cow-primary); }
.cow-suggest { position: absolute; left: 8px; right: 8px; bottom: 100%; max-height: 220px; overflow-y: auto;
  background: var(--cow-bg); border: 1px solid var(--cow-border); border-radius: 4px; box-shadow: 0 2px 8px rgba(0,0,0,0.2);
  display: none; z-index: 10; }
.cow-suggest.cow-open { display: block; }
.cow-hint { padding: 4px 8px; font-size: 11px; color: var(--cow-fg2); border-bottom: 1px solid var(--cow-border); font-family: var(--cow-mono); }
.cow-option { padding: 3px 8px; cursor: pointer; display: flex; gap: 8px; align-items: baseline; }
.cow-option.cow-active { background: var(--cow-primary); color: var(--cow-primary-fg); }
.cow-option-label { font-family: var(--cow-mono); }
.cow-option-desc { font-size: 11px; opacity: 0.75; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.cow-card-title { font-weight: 600; margin-bottom: 4px; }
.cow-card-grid { display: flex; flex-wrap: wrap; gap: 10px; align-items: flex-start; }
.cow-chart { min-width: 280px; flex: 1; }
.cow-heat-controls { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; font-size: 12px; margin-bottom: 4px; }
.cow-min-trades { width: 60px; font: inherit; padding: 1px 4px; background: var(--cow-bg); color: var(--cow-fg);
  border: 1px solid var(--cow-border); border-radius: 4px; }
.cow-heat-plot { position: relative; width: max-content; max-width: 100%; }
.cow-heat-canvas { display: block; }
.cow-heat-hover { position: absolute; display: none; pointer-events: none; outline: 2px solid var(--cow-fg); }
.cow-heat-legend { display: flex; align-items: center; gap: 6px; font-size: 11px; color: var(--cow-fg2); margin-top: 2px; }
.cow-heat-metric { font-weight: 600; }
.cow-heat-bar { width: 160px; height: 12px; border-radius: 2px; border: 1px solid var(--cow-border);
  display: inline-flex; justify-content: center; font-size: 9px; line-height: 10px; color: #333; }
.cow-heat-readout { min-height: 1.4em; }
.cow-heat-edge { color: var(--cow-warn-accent); font-size: 12px; margin: 4px 0; }
.cow-file { display: none; }
`;

let injected = false;

/** Add the panel's style sheet to the document once. */
export function injectStyles(doc = document) {
  if (injected && doc.getElementById("cow-styles")) return;
  if (!doc.getElementById("cow-styles")) {
    const style = doc.createElement("style");
    style.id = "cow-styles";
    style.textContent = PANEL_CSS + UPLOT_CSS;
    doc.head.appendChild(style);
  }
  injected = true;
}
