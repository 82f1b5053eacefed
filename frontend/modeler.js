// The admin's process modeler (/admin/models/<procedure>/<variant>/edit): bpmn-js's Modeler
// with our spiffworkflow moddle extension, the side panel of platform properties, the
// decision tables as plain inputs (rendered by the server), and the two actions: run the
// test bench on the draft, then save it as a new version (only after a passing run of the
// very same draft; the server checks that too).
//
// The page carries its data in <script type="application/json" id="model-data">:
// {procedure, variant, base_version, bpmn_xml, segments, names, urls: {bench, save}}.
// The diagram and each segment it calls (`segments: {id: BPMN}`) are parts of one draft:
// the part selector (#model-part) swaps the part on the canvas; a part edited is sent as
// drawn, the others as they were.
import Modeler from 'bpmn-js/lib/Modeler';

import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css';

import { withLayout } from './layout.js';
import { attachPanel } from './properties.js';
import spiffworkflow from './spiffworkflow.json';

const MARKERS = ['bench-path', 'bench-open', 'invalid'];
const MIN_SCALE = 0.6; // below this the labels are unreadable

function csrfToken() {
  return document.getElementById('modeler').dataset.csrf;
}

function status(text, kind) {
  const node = document.getElementById('model-status');
  node.textContent = text;
  node.className = `flash flash-${kind || 'info'}`;
  node.hidden = !text;
}

class Draft {
  constructor(data, modeler) {
    this.data = data;
    this.modeler = modeler;
    this.diagramChanged = false;
    this.part = ''; // '' the diagram itself, else the segment id on the canvas
    this.texts = { '': data.bpmn_xml, ...(data.segments || {}) }; // each part's BPMN
    this.edited = new Set(); // the parts changed on the canvas
    this.passed = null; // the payload of the last passing bench run
    this.saveButton = document.getElementById('save-draft');
  }

  // The DMN cells that differ from the version the page was opened on: {file: {id: text}}.
  cells() {
    const out = {};
    for (const input of document.querySelectorAll('[data-dmn-cell]')) {
      if (input.value === input.defaultValue) continue;
      (out[input.dataset.file] ||= {})[input.dataset.id] = input.value;
      input.classList.add('changed');
    }
    return out;
  }

  // Keep the part on the canvas: the original text while unchanged (no layout noise in the
  // version's diff), else what the modeler writes.
  async keep() {
    if (!this.diagramChanged) return;
    const { xml } = await this.modeler.saveXML({ format: true });
    this.texts[this.part] = xml;
    this.edited.add(this.part);
    this.diagramChanged = false;
  }

  // Put another part on the canvas.
  async show(part) {
    await this.keep();
    this.part = part;
    await this.modeler.importXML(await withLayout(this.texts[part], null));
    this.diagramChanged = false;
  }

  async payload() {
    await this.keep();
    const segments = {};
    for (const part of this.edited) if (part) segments[part] = this.texts[part];
    return {
      base_version: this.data.base_version,
      bpmn_xml: this.texts[''],
      segments,
      dmn_cells: this.cells(),
    };
  }

  changed() {
    if (this.passed) {
      this.passed = null;
      status('草稿已修改：请重新运行测试场景，全部通过后才能保存。', 'info');
    }
    this.saveButton.disabled = true;
  }

  async post(url, body) {
    const response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json',
        'X-CSRFToken': csrfToken(),
      },
      body: JSON.stringify(body),
    });
    let answer = null;
    try {
      answer = await response.json();
    } catch {
      answer = { error: `请求失败（HTTP ${response.status}），请刷新页面后重试。` };
    }
    return { ok: response.ok, status: response.status, answer };
  }
}

// -- markers on the diagram -----------------------------------------------------------------

function clearMarkers(modeler) {
  const canvas = modeler.get('canvas');
  for (const element of modeler.get('elementRegistry').getAll()) {
    for (const marker of MARKERS) canvas.removeMarker(element, marker);
  }
}

function mark(modeler, ids, marker) {
  const registry = modeler.get('elementRegistry');
  const canvas = modeler.get('canvas');
  const found = ids.filter((id) => registry.get(id));
  for (const id of found) canvas.addMarker(id, marker);
  return found;
}

function showPath(modeler, result) {
  clearMarkers(modeler);
  mark(modeler, result.path || [], 'bench-path');
  mark(modeler, result.open_steps || [], 'bench-open');
  for (const row of document.querySelectorAll('#bench-results tr.selected')) {
    row.classList.remove('selected');
  }
}

// -- results --------------------------------------------------------------------------------

function cell(text, cls) {
  const td = document.createElement('td');
  if (cls) td.className = cls;
  td.textContent = text;
  return td;
}

function showProblems(modeler, problems, title) {
  const box = document.getElementById('model-problems');
  const list = box.querySelector('ul');
  list.replaceChildren();
  box.querySelector('h3').textContent = title || '模型有误';
  for (const p of problems) {
    const li = document.createElement('li');
    const code = document.createElement('span');
    code.className = 'mono';
    code.textContent = p.element;
    li.append(code, `：${p.message}`);
    li.dataset.element = p.element;
    list.append(li);
  }
  box.hidden = !problems.length;
  const marked = mark(modeler, problems.map((p) => p.element), 'invalid');
  if (marked.length) {
    modeler.get('selection').select(modeler.get('elementRegistry').get(marked[0]));
  }
}

function showReport(modeler, report) {
  const section = document.getElementById('bench-results');
  const body = section.querySelector('tbody');
  const summary = section.querySelector('.bench-summary');
  body.replaceChildren();
  section.hidden = false;
  clearMarkers(modeler);
  showProblems(modeler, report.problems || [], '模型有误，测试场景未运行');
  const passed = report.results.filter((r) => r.passed).length;
  if (report.problems && report.problems.length) {
    summary.textContent = '模型有误，未运行测试场景';
    summary.className = 'bench-summary status status-rejected';
  } else if (report.passed) {
    summary.textContent = `全部通过 ${passed}/${report.results.length}`;
    summary.className = 'bench-summary status status-completed';
  } else {
    summary.textContent = `未通过 ${report.results.length - passed}/${report.results.length}`;
    summary.className = 'bench-summary status status-rejected';
  }
  report.results.forEach((r, index) => {
    const row = document.createElement('tr');
    row.className = r.passed ? 'pass' : 'fail';
    row.dataset.index = index;
    const name = cell(r.name);
    const file = document.createElement('small');
    file.className = 'muted mono';
    file.textContent = r.file;
    name.append(document.createElement('br'), file);
    row.append(
      name,
      cell(r.passed ? '通过' : '未通过', `nowrap ${r.passed ? 'decision-pass' : 'decision-fail'}`),
      cell((r.path || []).join(' → ') || '（无）', 'mono'),
      cell(`${r.status || ''}${r.reason ? `（${r.reason}）` : ''}`),
      cell(r.difference || '', 'error-text')
    );
    row.title = '点击在流程图上标出该场景的路径';
    row.addEventListener('click', () => {
      showPath(modeler, r);
      row.classList.add('selected');
    });
    body.append(row);
  });
  const first = report.results.find((r) => !r.passed) || report.results[0];
  if (first && !(report.problems && report.problems.length)) {
    showPath(modeler, first);
    body.querySelector(`tr[data-index="${report.results.indexOf(first)}"]`).classList.add('selected');
  }
}

// -- the page -------------------------------------------------------------------------------

// The diagram's start in view, to the right of the palette (not under it): the whole of it
// when it fits at MIN_SCALE or more, never enlarged.
function fitBesidePalette(canvas, holder) {
  const palette = holder.querySelector('.djs-palette');
  const left = palette
    ? palette.getBoundingClientRect().right - holder.getBoundingClientRect().left + 12
    : 12;
  const { inner, outer } = canvas.viewbox();
  const fits = Math.min(
    (outer.width - left - 12) / Math.max(inner.width, 1),
    (outer.height - 24) / Math.max(inner.height, 1)
  );
  const scale = Math.min(1, Math.max(MIN_SCALE, fits)); // wider ones: drag to pan
  canvas.viewbox({
    x: inner.x - left / scale,
    y: inner.y - 12 / scale,
    width: outer.width / scale,
    height: outer.height / scale,
  });
}

async function start() {
  const data = JSON.parse(document.getElementById('model-data').textContent);
  const holder = document.getElementById('modeler-canvas');
  const modeler = new Modeler({
    container: holder,
    moddleExtensions: { spiffworkflow },
  });
  window.xuejiModeler = modeler; // for the browser tests and the console
  await modeler.importXML(await withLayout(data.bpmn_xml, null));
  fitBesidePalette(modeler.get('canvas'), holder);
  attachPanel(modeler, document.getElementById('properties-panel'), data.names);

  const draft = new Draft(data, modeler);
  modeler.on('commandStack.changed', () => {
    draft.diagramChanged = true;
    draft.changed();
  });
  const partSelect = document.getElementById('model-part');
  if (partSelect) {
    partSelect.addEventListener('change', async () => {
      await draft.show(partSelect.value);
      fitBesidePalette(modeler.get('canvas'), holder);
    });
  }
  for (const input of document.querySelectorAll('[data-dmn-cell]')) {
    input.addEventListener('input', () => {
      input.classList.toggle('changed', input.value !== input.defaultValue);
      draft.changed();
    });
  }

  const benchButton = document.getElementById('run-bench');
  benchButton.addEventListener('click', async () => {
    benchButton.disabled = true;
    status('正在沙盒中运行测试场景…', 'info');
    try {
      const body = await draft.payload();
      const { answer } = await draft.post(data.urls.bench, body);
      if (answer.report) {
        showReport(modeler, answer.report);
        if (answer.report.passed) {
          draft.passed = body;
          draft.saveButton.disabled = false;
          status('测试场景全部通过：可以保存为新版本。', 'success');
        } else {
          status('测试场景未全部通过：草稿不能保存。', 'error');
        }
      } else {
        showProblems(modeler, answer.problems || [], '草稿有误');
        status(answer.error || '运行失败。', 'error');
      }
    } catch (error) {
      console.error(error);
      status('运行失败，请稍后重试。', 'error');
    } finally {
      benchButton.disabled = false;
    }
  });

  draft.saveButton.addEventListener('click', async () => {
    if (!draft.passed) return;
    if (!window.confirm(draft.saveButton.dataset.confirm)) return;
    draft.saveButton.disabled = true;
    status('正在校验、运行测试场景并部署…', 'info');
    const { ok, answer } = await draft.post(data.urls.save, draft.passed);
    if (ok && answer.url) {
      window.location.assign(answer.url);
      return;
    }
    if (answer.report) showReport(modeler, answer.report);
    if (answer.problems) showProblems(modeler, answer.problems, '未部署：模型有误');
    status(answer.error || '保存失败。', 'error');
  });

  holder.dataset.ready = 'true';
  status('', 'info');
}

function boot() {
  start().catch((error) => {
    console.error(error);
    status('建模器加载失败：' + error.message, 'error');
  });
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', boot);
} else {
  boot();
}
