// The workbench's plan viewer: PEV2 mounted into elements of a notebook output or an HTML report.
// Built into one offline file (workbench/static/pev2/pev2-viewer.js) by build.mjs; never fetched.
import { createApp, h } from "vue";
import { Plan } from "pev2";

const STYLE_ID = "wb-pev2-style";

function injectStyle() {
  if (document.getElementById(STYLE_ID)) return;
  const style = document.createElement("style");
  style.id = STYLE_ID;
  style.textContent = __WB_PEV2_CSS__;
  document.head.appendChild(style);
}

// Mount PEV2 for one plan into `target`; returns the Vue app.
function mount(target, planSource, planQuery) {
  injectStyle();
  const app = createApp({ render: () => h(Plan, { planSource, planQuery: planQuery || "" }) });
  app.mount(target);
  return app;
}

// Mount every `.wb-plan` container the workbench wrote (static table kept as the fallback).
function mountContainer(root) {
  if (!root || root.dataset.wbMounted) return false;
  const data = root.querySelector("script.wb-plan-data");
  const target = root.querySelector(".wb-pev2-target");
  if (!data || !target) return false;
  root.dataset.wbMounted = "1";
  try {
    const doc = JSON.parse(data.textContent);
    target.style.display = "";
    mount(target, doc.plan, doc.query);
    const table = root.querySelector("details.wb-plan-table");
    if (table) table.open = false;
    const note = root.querySelector(".wb-plan-note");
    if (note) note.remove();
    root.dataset.wbViewer = "pev2";
    return true;
  } catch (err) {
    target.style.display = "none";
    root.dataset.wbViewer = "table";
    console.warn("workbench: the plan viewer could not render this plan, the table stays", err);
    return false;
  }
}

function mountAll(scope) {
  (scope || document).querySelectorAll(".wb-plan").forEach(mountContainer);
}

window.WorkbenchPEV2 = { version: __WB_PEV2_VERSION__, mount, mountContainer, mountAll };
mountAll(document);
document.dispatchEvent(new Event("wb-pev2-ready"));
