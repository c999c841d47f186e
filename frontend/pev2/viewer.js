// The workbench's plan viewer: PEV2 mounted for each plan of a notebook output or an HTML report.
// Built into one offline file (workbench/static/pev2/pev2-viewer.js) by build.mjs; never fetched.
//
// PEV2 keeps its state in one module-level store, so two plans on one page would share it: each
// plan gets its own iframe (its own JavaScript realm) running this same script, which the page
// holds once (its text is kept when it first runs).
import { createApp, h } from "vue";
import { Plan } from "pev2";

const STYLE_ID = "wb-pev2-style";
const SOURCE =
  (window.WorkbenchPEV2 && window.WorkbenchPEV2.source) ||
  (document.currentScript && document.currentScript.textContent) ||
  "";

function injectStyle(doc) {
  if (doc.getElementById(STYLE_ID)) return;
  const style = doc.createElement("style");
  style.id = STYLE_ID;
  style.textContent = __WB_PEV2_CSS__;
  doc.head.appendChild(style);
}

// Mount PEV2 for one plan into `target` of this realm; returns the Vue app.
function mount(target, planSource, planQuery) {
  injectStyle(target.ownerDocument);
  const app = createApp({ render: () => h(Plan, { planSource, planQuery: planQuery || "" }) });
  app.mount(target);
  return app;
}

function fail(root, target, err) {
  target.style.display = "none";
  root.dataset.wbViewer = "table";
  console.warn("workbench: the plan viewer could not show this plan; the table stays", err);
}

// Mount one `.wb-plan` container the workbench wrote (its static table stays as the fallback).
function mountContainer(root) {
  if (!root || root.dataset.wbMounted) return false;
  const data = root.querySelector("script.wb-plan-data");
  const target = root.querySelector(".wb-pev2-target");
  if (!data || !target || !SOURCE) return false;
  root.dataset.wbMounted = "1";
  let doc;
  try {
    doc = JSON.parse(data.textContent);
  } catch (err) {
    fail(root, target, err);
    return false;
  }
  const frame = document.createElement("iframe");
  frame.title = "PEV2 plan viewer";
  frame.style.cssText = "width:100%;height:100%;border:0;display:block";
  frame.addEventListener("load", function onLoad() {
    const inner = frame.contentDocument;
    if (!inner || !inner.getElementById("app")) return;  // the initial about:blank, not ours yet
    frame.removeEventListener("load", onLoad);
    try {
      const script = inner.createElement("script");
      script.textContent = SOURCE;
      inner.head.appendChild(script);
      frame.contentWindow.WorkbenchPEV2.mount(inner.getElementById("app"), doc.plan, doc.query);
      const table = root.querySelector("details.wb-plan-table");
      if (table) table.open = false;
      const note = root.querySelector(".wb-plan-note");
      if (note) note.remove();
      root.dataset.wbViewer = "pev2";
    } catch (err) {
      fail(root, target, err);
    }
  });
  frame.srcdoc = '<!doctype html><html><head><meta charset="utf-8"></head>' +
    '<body class="wb-pev2" style="margin:0"><div id="app" style="height:100vh;display:flex;flex-direction:column"></div></body></html>';
  target.style.display = "";
  target.appendChild(frame);
  return true;
}

function mountAll(scope) {
  (scope || document).querySelectorAll(".wb-plan").forEach(mountContainer);
}

window.WorkbenchPEV2 = { version: __WB_PEV2_VERSION__, source: SOURCE, mount, mountContainer, mountAll };
if (!window.frameElement || !window.frameElement.srcdoc) {  // not inside a viewer's own iframe
  mountAll(document);
  document.dispatchEvent(new Event("wb-pev2-ready"));
}
