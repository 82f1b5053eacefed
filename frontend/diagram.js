// The diagram panel on an instance's page and on a task page: the instance's own BPMN version
// drawn with bpmn-js, the steps done, waiting, rejected at and failed each marked.
// The panel's data-url answers {bpmn_xml, completed, active, rejected, failed, lanes,
// segments}; each segment (a called process, [{id, name, bpmn_xml, completed, …}]) is drawn
// below the diagram that calls it, with its own markers, so the whole path shows.
import Viewer from 'bpmn-js/lib/Viewer';

import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';

import { withLayout } from './layout.js';

const FAILED_TEXT = '流程图加载失败';
const PAD = 16; // px around the drawing
const MIN_SCALE = 0.6; // below this the labels are unreadable: scroll sideways instead

// Marker class per list; later lists win (a step rejected at is not also shown as done).
const MARKERS = [
  ['completed', 'done'],
  ['active', 'current'],
  ['rejected', 'rejected'],
  ['failed', 'failed'],
];

export function markersFor(state) {
  const marker = new Map();
  for (const [key, cls] of MARKERS) {
    for (const id of state[key] || []) marker.set(id, cls);
  }
  return marker;
}

function setStatus(panel, text, failed) {
  const status = panel.querySelector('.diagram-status');
  status.textContent = text;
  status.hidden = !text;
  panel.classList.toggle('diagram-failed', failed);
}

// Size the canvas to the drawing: the panel's width when the drawing fits at MIN_SCALE or
// more, else wider than the panel, which then scrolls to bring `focus` into view.
function fit(canvas, holder, focus) {
  const inner = canvas.viewbox().inner;
  const room = holder.parentElement.clientWidth - 2 * PAD;
  const scale = Math.max(MIN_SCALE, Math.min(1, room / Math.max(inner.width, 1)));
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
  if (focus) {
    const scroller = holder.parentElement;
    const x = (focus.x + focus.width / 2 - inner.x) * scale + PAD;
    scroller.scrollLeft = Math.max(0, x - scroller.clientWidth / 2);
  }
}

// Draw one diagram (the instance's, or one segment's) into `holder`, marked and fitted.
async function draw(holder, state) {
  const viewer = new Viewer({ container: holder });
  await viewer.importXML(await withLayout(state.bpmn_xml, state.lanes));
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  for (const [id, cls] of markersFor(state)) {
    if (registry.get(id)) canvas.addMarker(id, cls);
  }
  const focus = [...(state.failed || []), ...(state.active || []), ...(state.rejected || [])]
    .map((id) => registry.get(id))
    .find(Boolean);
  return () => fit(canvas, holder, focus);
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

async function show(panel) {
  const holder = panel.querySelector('.diagram-canvas');
  const response = await fetch(panel.dataset.url, {
    credentials: 'same-origin',
    headers: { Accept: 'application/json' },
  });
  if (!response.ok) throw new Error(`${panel.dataset.url}: HTTP ${response.status}`);
  const state = await response.json();
  const fits = [await draw(holder, state)];
  let after = holder.parentElement;
  for (const segment of state.segments || []) {
    const placed = segmentHolder(segment, after);
    fits.push(await draw(placed.holder, segment));
    after = placed.box;
  }
  setStatus(panel, '', false);
  for (const fitted of fits) fitted();
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
