// Diagram interchange (DI) for BPMN files that have none. Our procedures are written by hand,
// so the browser lays them out before drawing them: bpmn-auto-layout places the flow nodes on
// a grid (columns left to right in flow order), then `laneLayout` keeps those columns and
// stacks the lanes (one per slot) as horizontal bands, each node in its lane's band.
import { layoutProcess } from 'bpmn-auto-layout';
import { BpmnModdle } from 'bpmn-moddle';

// bpmn-auto-layout's grid cell: node centres sit at (col + ½)·CELL_W, (row + ½)·CELL_H.
const CELL_W = 150;
const CELL_H = 140;
const HEAD = 30; // the label band of the pool and of each lane
const LEFT = 2 * HEAD + 10; // where the grid starts inside the pool
const CHANNEL = 14; // spacing of the lines that run back against the flow

function hasDiagram(definitions) {
  return (definitions.diagrams || []).some(
    (diagram) => diagram.plane && (diagram.plane.planeElement || []).length > 0
  );
}

// bpmn-auto-layout walks `incoming`/`outgoing`, which hand-written files leave out:
// derive them from each sequence flow's sourceRef and targetRef.
function linkFlows(process) {
  for (const flow of process.flowElements || []) {
    if (!flow.$instanceOf('bpmn:SequenceFlow')) continue;
    const outgoing = flow.sourceRef.get('outgoing');
    const incoming = flow.targetRef.get('incoming');
    if (!outgoing.includes(flow)) outgoing.push(flow);
    if (!incoming.includes(flow)) incoming.push(flow);
  }
}

function renameLanes(definitions, labels) {
  if (!labels) return;
  const processes = definitions.rootElements.filter((e) => e.$instanceOf('bpmn:Process'));
  for (const process of processes) {
    for (const laneSet of process.laneSets || []) {
      for (const lane of laneSet.lanes || []) {
        if (labels[lane.id]) lane.name = labels[lane.id];
      }
    }
  }
}

/**
 * The BPMN XML with DI: returned unchanged (lanes relabelled) when it already has DI.
 * `laneLabels` maps lane ids to the names to show (the organisations that act in them).
 */
export async function withLayout(xml, laneLabels) {
  const moddle = new BpmnModdle();
  const { rootElement: definitions } = await moddle.fromXML(xml);
  renameLanes(definitions, laneLabels);
  if (hasDiagram(definitions)) return (await moddle.toXML(definitions)).xml;
  definitions.rootElements
    .filter((element) => element.$instanceOf('bpmn:Process'))
    .forEach(linkFlows);
  const { xml: linked } = await moddle.toXML(definitions);
  const laidOut = await layoutProcess(linked);
  const { rootElement: result } = await moddle.fromXML(laidOut);
  laneLayout(moddle, result);
  return (await moddle.toXML(result, { format: true })).xml;
}

// -- lanes ------------------------------------------------------------------------------------

function bounds(di) {
  const b = di.bounds;
  return { x: b.x, y: b.y, width: b.width, height: b.height };
}

function mid(b) {
  return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
}

/** Stack the lanes of the first participant's process as bands; false when it cannot. */
export function laneLayout(moddle, definitions) {
  const collaboration = definitions.rootElements.find((e) =>
    e.$instanceOf('bpmn:Collaboration')
  );
  const participant = (collaboration?.participants || []).find((p) => p.processRef);
  const process = participant?.processRef;
  const laneSet = (process?.laneSets || [])[0];
  const lanes = laneSet?.lanes || [];
  if (!lanes.length || lanes.some((lane) => lane.childLaneSet)) return false;
  const plane = definitions.diagrams[0].plane;
  const shapes = new Map();
  const edges = [];
  for (const di of plane.planeElement) {
    if (di.$instanceOf('bpmndi:BPMNShape')) shapes.set(di.bpmnElement, di);
    else if (di.$instanceOf('bpmndi:BPMNEdge')) edges.push(di);
  }
  const laneOf = new Map();
  lanes.forEach((lane, index) => {
    for (const node of lane.flowNodeRef || []) laneOf.set(node, index);
  });
  if ([...shapes.keys()].some((node) => !laneOf.has(node))) return false;

  // Grid cells from bpmn-auto-layout, then each lane keeps only the rows it uses.
  const cell = new Map();
  for (const [node, di] of shapes) {
    const m = mid(bounds(di));
    cell.set(node, {
      col: Math.round((m.x - CELL_W / 2) / CELL_W),
      row: Math.round((m.y - CELL_H / 2) / CELL_H),
    });
  }
  const rowOf = compactRows(lanes, laneOf, cell);
  const rowsOf = lanes.map(() => 1); // packed rows per lane
  for (const [node, row] of rowOf) {
    rowsOf[laneOf.get(node)] = Math.max(rowsOf[laneOf.get(node)], row + 1);
  }

  const tops = [];
  const heights = [];
  let y = 0;
  lanes.forEach((_, index) => {
    tops.push(y);
    heights.push(rowsOf[index] * CELL_H);
    y += heights[index];
  });

  let right = 0;
  const placed = new Map();
  for (const [node, di] of shapes) {
    const b = bounds(di);
    const lane = laneOf.get(node);
    const top = tops[lane] + rowOf.get(node) * CELL_H;
    const left = LEFT + cell.get(node).col * CELL_W;
    di.bounds.x = left + (CELL_W - b.width) / 2;
    di.bounds.y = top + (CELL_H - b.height) / 2;
    delete di.label;
    placed.set(node, { ...bounds(di), cellLeft: left, cellTop: top });
    right = Math.max(right, di.bounds.x + b.width);
  }

  const router = new Router([...placed.values()]);
  for (const edge of edges) {
    const flow = edge.bpmnElement;
    const s = placed.get(flow.sourceRef);
    const t = placed.get(flow.targetRef);
    if (!s || !t) continue;
    const points = router.route(
      s,
      t,
      flow.sourceRef.$instanceOf('bpmn:Gateway'),
      flow.targetRef.$instanceOf('bpmn:Gateway')
    );
    delete edge.label;
    edge.waypoint = points.map((p) =>
      moddle.create('dc:Point', { x: Math.round(p.x), y: Math.round(p.y) })
    );
  }

  const width = right + 40;
  plane.bpmnElement = collaboration;
  plane.planeElement.unshift(
    moddle.create('bpmndi:BPMNShape', {
      id: `${participant.id}_di`,
      bpmnElement: participant,
      isHorizontal: true,
      bounds: moddle.create('dc:Bounds', { x: 0, y: 0, width, height: y }),
    }),
    ...lanes.map((lane, index) =>
      moddle.create('bpmndi:BPMNShape', {
        id: `${lane.id}_di`,
        bpmnElement: lane,
        isHorizontal: true,
        bounds: moddle.create('dc:Bounds', {
          x: HEAD,
          y: tops[index],
          width: width - HEAD,
          height: heights[index],
        }),
      })
    )
  );
  return true;
}

// Within a lane, the grid rows its nodes use, packed: a grid row joins an earlier packed row
// when their column spans are at least one column apart, else it starts a new one.
function compactRows(lanes, laneOf, cell) {
  const rowOf = new Map();
  lanes.forEach((_, index) => {
    const byRow = new Map();
    for (const [node, c] of cell) {
      if (laneOf.get(node) !== index) continue;
      if (!byRow.has(c.row)) byRow.set(c.row, []);
      byRow.get(c.row).push(node);
    }
    const packed = []; // column spans [from, to] taken in each packed row
    for (const row of [...byRow.keys()].sort((a, b) => a - b)) {
      const nodes = byRow.get(row);
      const cols = nodes.map((n) => cell.get(n).col);
      const span = [Math.min(...cols), Math.max(...cols)];
      const apart = ([a, b]) => span[1] < a - 1 || span[0] > b + 1;
      let at = packed.findIndex((spans) => spans.every(apart));
      if (at < 0) at = packed.push([]) - 1;
      packed[at].push(span);
      for (const n of nodes) rowOf.set(n, at);
    }
  });
  return rowOf;
}

// Orthogonal routes for sequence flows: the first candidate whose segments cross no other node
// wins; the last candidate runs in the gaps between grid columns and rows, which are free.
class Router {
  constructor(boxes) {
    this.boxes = boxes;
    this.backIn = new Map(); // flows already entering a node from below, to space them apart
  }

  blocked(points, s, t) {
    for (let i = 1; i < points.length; i++) {
      const a = points[i - 1];
      const b = points[i];
      const x1 = Math.min(a.x, b.x);
      const x2 = Math.max(a.x, b.x);
      const y1 = Math.min(a.y, b.y);
      const y2 = Math.max(a.y, b.y);
      for (const box of this.boxes) {
        if (box === s || box === t) continue;
        const apart =
          x2 < box.x - 4 ||
          x1 > box.x + box.width + 4 ||
          y2 < box.y - 4 ||
          y1 > box.y + box.height + 4;
        if (!apart) return true;
      }
    }
    return false;
  }

  route(s, t, fromGateway, toGateway) {
    const sm = mid(s);
    const tm = mid(t);
    const sRight = { x: s.x + s.width, y: sm.y };
    const tLeft = { x: t.x, y: tm.y };
    const xs = s.cellLeft + CELL_W; // the gap after the source's column
    const xt = t.cellLeft; // the gap before the target's column
    const candidates = [];
    if (tm.x > sm.x) {
      const down = tm.y > sm.y;
      if (Math.abs(sm.y - tm.y) < 1) candidates.push([sRight, tLeft]);
      if (fromGateway) {
        const out = { x: sm.x, y: down ? s.y + s.height : s.y };
        candidates.push([out, { x: sm.x, y: tm.y }, tLeft]);
      }
      if (toGateway) {
        const into = { x: tm.x, y: down ? t.y : t.y + t.height };
        candidates.push([sRight, { x: tm.x, y: sm.y }, into]);
      }
      candidates.push(
        [sRight, { x: xt, y: sm.y }, { x: xt, y: tm.y }, tLeft],
        [sRight, { x: xs, y: sm.y }, { x: xs, y: tm.y }, tLeft]
      );
      const gap = down ? t.cellTop + 6 : t.cellTop + CELL_H - 6;
      candidates.push([
        sRight,
        { x: xs, y: sm.y },
        { x: xs, y: gap },
        { x: xt, y: gap },
        { x: xt, y: tm.y },
        tLeft,
      ]);
    } else {
      // Against the flow: back along the gap under the target, entering it from below.
      const k = this.backIn.get(t) || 0;
      this.backIn.set(t, k + 1);
      const gap = t.cellTop + CELL_H - 8 - k * CHANNEL;
      const tBottom = { x: tm.x + k * CHANNEL, y: t.y + t.height };
      const under = { x: tBottom.x, y: gap };
      const out = { x: sm.x, y: sm.y >= gap ? s.y : s.y + s.height };
      candidates.push([out, { x: sm.x, y: gap }, under, tBottom]);
      const x = xs - (k * CHANNEL) / 2;
      candidates.push([sRight, { x, y: sm.y }, { x, y: gap }, under, tBottom]);
    }
    const clear = candidates.find((points) => !this.blocked(points, s, t));
    return clear || candidates[candidates.length - 1];
  }
}
