// The diagram panel on an instance's page and on a task page: the instance's own BPMN version
// drawn with bpmn-js, the steps done, waiting, rejected at and failed each marked, the
// sequence flows taken highlighted, automatic steps set apart; zoom, fit and full screen.
// The panel's data-url answers {bpmn_xml, completed, active, rejected, failed, lanes,
// segments}; each segment (a called process, [{id, name, bpmn_xml, completed, …}]) is drawn
// below the diagram that calls it, with its own markers, so the whole path shows.
import Viewer from 'bpmn-js/lib/Viewer';

import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';

import { withLayout } from './layout.js';

const FAILED_TEXT = '流程图加载失败';
const PAD = 16; // px around the drawing
// Below MIN_SCALE the labels (LABEL_PX at scale 1) are too small to read, so a wide drawing
// opens at MIN_SCALE and scrolls sideways; 适应面板 may go smaller, down to FIT_FLOOR.
const MIN_SCALE = 0.8;
const FIT_FLOOR = 0.2;
const MAX_SCALE = 3;
const ZOOM_STEP = 1.25;
const LABEL_PX = 14;

// Marker class per list; later lists win (a step rejected at is not also shown as done).
const MARKERS = [
  ['completed', 'done'],
  ['active', 'current'],
  ['rejected', 'rejected'],
  ['failed', 'failed'],
];

// Steps the system does by itself, drawn apart from the steps a person in the lane does.
const AUTOMATIC = new Set(['bpmn:ServiceTask', 'bpmn:BusinessRuleTask', 'bpmn:ScriptTask']);

export function markersFor(state) {
  const marker = new Map();
  for (const [key, cls] of MARKERS) {
    for (const id of state[key] || []) marker.set(id, cls);
  }
  return marker;
}

// The sequence flows the instance went along: its source was reached before its target (the
// lists give the order steps were reached in; a loop back counts, as its target is reached
// again after its source).
export function takenFlows(state, flows) {
  const order = [...(state.completed || []), ...(state.active || []), ...(state.failed || [])];
  const first = new Map();
  const last = new Map();
  order.forEach((id, i) => {
    if (!first.has(id)) first.set(id, i);
    last.set(id, i);
  });
  return flows
    .filter((flow) => first.has(flow.source) && last.has(flow.target))
    .filter((flow) => first.get(flow.source) < last.get(flow.target))
    .map((flow) => flow.id);
}

function setStatus(panel, text, failed) {
  const status = panel.querySelector('.diagram-status');
  status.textContent = text;
  status.hidden = !text;
  panel.classList.toggle('diagram-failed', failed);
}

// The scale at which the drawing fills the panel's width (never above 1 unless zoomed).
function fitScale(view, floor) {
  const inner = view.canvas.viewbox().inner;
  const room = view.holder.parentElement.clientWidth - 2 * PAD;
  return Math.max(floor, Math.min(1, room / Math.max(inner.width, 1)));
}

// Size the canvas to the drawing at view.scale: wider than the panel, the panel scrolls to
// bring view.focus (the step at hand, or the end reached) into the middle.
function render(view) {
  const { canvas, holder, scale, focus } = view;
  const inner = canvas.viewbox().inner;
  const width = Math.round(inner.width * scale + 2 * PAD);
  const height = Math.round(inner.height * scale + 2 * PAD);
  holder.style.width = `${width}px`;
  holder.style.height = `${height}px`;
  canvas.resized();
  canvas.viewbox({
    x: inner.x - PAD / scale,
    y: inner.y - PAD / scale,
    width: width / scale,
    height: height / scale,
  });
  const scroller = holder.parentElement;
  const x = focus ? (focus.x + focus.width / 2 - inner.x) * scale + PAD : 0;
  scroller.scrollLeft = Math.max(0, x - scroller.clientWidth / 2);
  holder.dataset.scale = scale.toFixed(3);
}

// Where the drawing opens: a failed, waiting or rejected step, else the end the case reached.
function focusOf(state, registry) {
  const atHand = [...(state.failed || []), ...(state.active || []), ...(state.rejected || [])];
  const ends = (state.completed || []).filter((id) => registry.get(id)?.type === 'bpmn:EndEvent');
  return [...atHand, ...ends.reverse()].map((id) => registry.get(id)).find(Boolean);
}

// Draw one diagram (the instance's, or one segment's) into `holder`: marked, path taken
// highlighted, automatic steps set apart.
async function draw(holder, state) {
  const viewer = new Viewer({
    container: holder,
    textRenderer: {
      defaultStyle: { fontSize: LABEL_PX, lineHeight: 1.2 },
      externalStyle: { fontSize: LABEL_PX, lineHeight: 1.2 },
    },
  });
  await viewer.importXML(await withLayout(state.bpmn_xml, state.lanes));
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  for (const [id, cls] of markersFor(state)) {
    if (registry.get(id)) canvas.addMarker(id, cls);
  }
  for (const shape of registry.filter((el) => AUTOMATIC.has(el.type))) {
    canvas.addMarker(shape, 'automatic');
  }
  const flows = registry
    .filter((el) => el.type === 'bpmn:SequenceFlow' && el.source && el.target)
    .map((el) => ({ id: el.id, source: el.source.id, target: el.target.id }));
  for (const id of takenFlows(state, flows)) canvas.addMarker(id, 'taken');
  return { canvas, holder, focus: focusOf(state, registry), scale: 1 };
}

// A titled canvas for one segment, placed after the instance's own canvas.
function segmentHolder(segment, after) {
  const box = document.createElement('div');
  box.className = 'diagram-segment';
  box.dataset.segment = segment.id;
  const title = document.createElement('h3');
  title.textContent = `子流程：${segment.name || segment.id}`;
  const scroll = document.createElement('div');
  scroll.className = 'diagram-scroll';
  const holder = document.createElement('div');
  holder.className = 'diagram-canvas';
  scroll.append(holder);
  box.append(title, scroll);
  after.after(box);
  return { box, holder };
}

// The toolbar's buttons (放大, 缩小, 适应面板, 全屏) act on every drawing in the panel.
function wireToolbar(panel, views) {
  const toolbar = panel.querySelector('.diagram-tools');
  if (!toolbar) return;
  const zoom = (scaleOf) => {
    for (const view of views) {
      view.scale = Math.min(MAX_SCALE, Math.max(FIT_FLOOR, scaleOf(view)));
      render(view);
    }
  };
  const actions = {
    'zoom-in': () => zoom((view) => view.scale * ZOOM_STEP),
    'zoom-out': () => zoom((view) => view.scale / ZOOM_STEP),
    fit: () => zoom((view) => fitScale(view, FIT_FLOOR)),
    fullscreen: () =>
      document.fullscreenElement === panel
        ? document.exitFullscreen()
        : panel.requestFullscreen().catch((error) => console.error(error)),
  };
  toolbar.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-action]');
    if (button) actions[button.dataset.action]();
  });
  const full = toolbar.querySelector('[data-action=fullscreen]');
  if (!panel.requestFullscreen) full.hidden = true;
  document.addEventListener('fullscreenchange', () => {
    const on = document.fullscreenElement === panel;
    full.textContent = on ? '退出全屏' : '全屏';
    full.setAttribute('aria-label', on ? '退出全屏' : '全屏查看流程图');
    full.setAttribute('aria-pressed', on ? 'true' : 'false');
    zoom((view) => fitScale(view, on ? FIT_FLOOR : MIN_SCALE));
  });
  toolbar.hidden = false;
}

async function show(panel) {
  const holder = panel.querySelector('.diagram-canvas');
  const response = await fetch(panel.dataset.url, {
    credentials: 'same-origin',
    headers: { Accept: 'application/json' },
  });
  if (!response.ok) throw new Error(`${panel.dataset.url}: HTTP ${response.status}`);
  const state = await response.json();
  const views = [await draw(holder, state)];
  let after = holder.parentElement;
  for (const segment of state.segments || []) {
    const placed = segmentHolder(segment, after);
    views.push(await draw(placed.holder, segment));
    after = placed.box;
  }
  setStatus(panel, '', false);
  for (const view of views) {
    view.scale = fitScale(view, MIN_SCALE);
    render(view);
  }
  wireToolbar(panel, views);
  panel.dataset.ready = 'true';
}

function start() {
  for (const panel of document.querySelectorAll('[data-diagram]')) {
    show(panel).catch((error) => {
      console.error(error);
      setStatus(panel, FAILED_TEXT, true);
    });
  }
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', start);
} else {
  start();
}
