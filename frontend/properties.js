// The modeler's side panel: this platform's properties of the selected element, written into
// the BPMN exactly as our files carry them (see frontend/spiffworkflow.json):
//   lane          → its name is the slot (school, to_county, …)
//   user task     → <spiffworkflow:properties> with formKey, dueDays, notBy, rosterChanges
//   service task  → <spiffworkflow:serviceTaskOperator id="handler" resultVariable="…">
// Only names the server lists (workflows.modeling.names()) are offered. Every change goes
// through bpmn-js's command stack, so it can be undone and marks the draft as changed.

const KINDS = {
  'bpmn:Lane': '泳道',
  'bpmn:UserTask': '人工任务',
  'bpmn:ServiceTask': '自动任务',
  'bpmn:ScriptTask': '脚本任务',
  'bpmn:ExclusiveGateway': '排他网关',
  'bpmn:ParallelGateway': '并行网关',
  'bpmn:StartEvent': '开始事件',
  'bpmn:EndEvent': '结束事件',
  'bpmn:IntermediateCatchEvent': '中间事件',
  'bpmn:SequenceFlow': '顺序流',
  'bpmn:Participant': '流程',
};

const SLOT_LABELS = {
  school: '学校',
  county: '县（区）',
  city: '市',
  province: '省',
  from_school: '转出（原）学校',
  from_county: '转出地县（区）',
  from_city: '转出地市',
  to_school: '转入（接收）学校',
  to_county: '转入地县（区）',
  to_city: '转入地市',
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) if (child) node.append(child);
  return node;
}

function field(label, control, help) {
  return el(
    'div',
    { class: 'field' },
    el('label', { class: 'label', for: control.id, text: label }),
    control,
    help ? el('small', { class: 'help', text: help }) : null
  );
}

// A select offering `choices` only; a current value that is not among them is shown as a
// warning, never as an option.
function select(id, choices, current, { blank, label } = {}) {
  const node = el('select', { id, name: id });
  if (blank !== undefined) node.append(el('option', { value: '', text: blank }));
  else if (!choices.includes(current)) node.append(el('option', { value: '', text: '请选择…' }));
  for (const choice of choices) {
    const text = label ? label(choice) : choice;
    node.append(el('option', { value: choice, text, selected: choice === current }));
  }
  if (!choices.includes(current)) node.value = '';
  return node;
}

function unknown(current, what) {
  return current
    ? el('p', { class: 'error', text: `当前值“${current}”不是已知的${what}，请重新选择。` })
    : null;
}

// -- reading and writing the extension elements ---------------------------------------------

function extensionValues(bo) {
  return bo.extensionElements ? bo.extensionElements.get('values') : [];
}

function findExtension(bo, type) {
  return extensionValues(bo).find((value) => value.$instanceOf(type));
}

export function properties(bo) {
  const holder = findExtension(bo, 'spiffworkflow:Properties');
  const out = {};
  for (const prop of holder ? holder.get('properties') : []) out[prop.name] = prop.value;
  return out;
}

export function handlerOf(bo) {
  const operator = findExtension(bo, 'spiffworkflow:ServiceTaskOperator');
  return operator ? { id: operator.id, resultVariable: operator.resultVariable } : null;
}

class Writer {
  constructor(modeler) {
    this.moddle = modeler.get('moddle');
    this.modeling = modeler.get('modeling');
  }

  extensions(element) {
    const bo = element.businessObject;
    if (!bo.extensionElements) {
      const ext = this.moddle.create('bpmn:ExtensionElements', { values: [] });
      ext.$parent = bo;
      this.modeling.updateProperties(element, { extensionElements: ext });
    }
    return bo.extensionElements;
  }

  child(element, type, attrs) {
    const ext = this.extensions(element);
    let found = ext.get('values').find((value) => value.$instanceOf(type));
    if (!found) {
      found = this.moddle.create(type, attrs);
      found.$parent = ext;
      this.modeling.updateModdleProperties(element, ext, { values: [...ext.get('values'), found] });
    }
    return found;
  }

  // Set (or, with an empty value, remove) one <spiffworkflow:property name=… value=…/>.
  setProperty(element, name, value) {
    const current = properties(element.businessObject);
    if ((current[name] ?? '') === (value ?? '')) return;
    const holder = this.child(element, 'spiffworkflow:Properties', {});
    const list = holder.get('properties');
    const existing = list.find((prop) => prop.name === name);
    if (!value) {
      this.modeling.updateModdleProperties(element, holder, {
        properties: list.filter((prop) => prop !== existing),
      });
    } else if (existing) {
      this.modeling.updateModdleProperties(element, existing, { value });
    } else {
      const prop = this.moddle.create('spiffworkflow:Property', { name, value });
      prop.$parent = holder;
      this.modeling.updateModdleProperties(element, holder, { properties: [...list, prop] });
    }
  }

  setHandler(element, changes) {
    const operator = this.child(element, 'spiffworkflow:ServiceTaskOperator', {});
    if (!operator.parameters) {
      const parameters = this.moddle.create('spiffworkflow:Parameters', {});
      parameters.$parent = operator;
      changes = { parameters, ...changes };
    }
    this.modeling.updateModdleProperties(element, operator, changes);
  }
}

// -- the panel ------------------------------------------------------------------------------

function laneFields(element, names, writer) {
  const bo = element.businessObject;
  const slot = select('prop-slot', names.slots, bo.name, {
    label: (s) => `${s}（${SLOT_LABELS[s] || s}）`,
  });
  slot.addEventListener('change', () => {
    if (slot.value) writer.modeling.updateProperties(element, { name: slot.value });
  });
  return [
    field('岗位槽位', slot, '泳道的名称就是槽位：引擎据此把步骤交给对应的单位。'),
    unknown(names.slots.includes(bo.name) ? '' : bo.name, '岗位槽位'),
  ];
}

function userTaskFields(element, names, writer) {
  const props = properties(element.businessObject);
  const form = select('prop-formKey', names.forms, props.formKey);
  form.addEventListener('change', () => writer.setProperty(element, 'formKey', form.value));

  const due = el('input', {
    id: 'prop-dueDays',
    name: 'prop-dueDays',
    type: 'number',
    min: 1,
    max: 365,
    step: 1,
    value: props.dueDays || '',
    placeholder: '10',
  });
  due.addEventListener('change', () => {
    const days = due.value.trim();
    if (days && !(/^\d+$/.test(days) && +days >= 1 && +days <= 365)) {
      due.setCustomValidity('1 到 365 之间的整数');
      due.reportValidity();
      return;
    }
    due.setCustomValidity('');
    writer.setProperty(element, 'dueDays', days);
  });

  const notBy = select('prop-notBy', names.notBy, props.notBy, {
    blank: '不限',
    label: (v) => (v === 'initiator' ? '录入人以外的人员办理（四眼原则）' : v),
  });
  notBy.addEventListener('change', () => writer.setProperty(element, 'notBy', notBy.value));

  const roster = el('input', {
    id: 'prop-rosterChanges',
    name: 'prop-rosterChanges',
    type: 'checkbox',
    checked: props.rosterChanges === 'true',
  });
  roster.addEventListener('change', () =>
    writer.setProperty(element, 'rosterChanges', roster.checked ? 'true' : '')
  );

  return [
    field('表单（formKey）', form),
    unknown(names.forms.includes(props.formKey) ? '' : props.formKey, '表单'),
    field('办理时限（工作日，dueDays）', due, '留空：10 个工作日。'),
    field('办理人限制（notBy）', notBy),
    el(
      'div',
      { class: 'field' },
      el('label', { class: 'choice', for: 'prop-rosterChanges' }, roster, ' 可修改名册（rosterChanges）')
    ),
  ];
}

function serviceTaskFields(element, names, writer) {
  const current = handlerOf(element.businessObject) || {};
  const handler = select('prop-handler', names.handlers, current.id);
  handler.addEventListener('change', () => {
    if (!handler.value) return;
    const changes = { id: handler.value };
    if (!current.resultVariable) changes.resultVariable = handler.value.split('.').pop();
    writer.setHandler(element, changes);
  });
  const result = el('input', {
    id: 'prop-resultVariable',
    name: 'prop-resultVariable',
    type: 'text',
    value: current.resultVariable || '',
    pattern: '[A-Za-z_][A-Za-z0-9_]*',
  });
  result.addEventListener('change', () => {
    if (result.checkValidity() && result.value) {
      writer.setHandler(element, { resultVariable: result.value });
    }
  });
  return [
    field('处理程序（handler）', handler),
    unknown(names.handlers.includes(current.id) ? '' : current.id, '处理程序'),
    field('结果变量（resultVariable）', result, '处理程序的返回值存入该变量，供后面的网关条件使用。'),
  ];
}

/** Show the platform properties of the selected element in `panel`. */
export function attachPanel(modeler, panel, names) {
  const writer = new Writer(modeler);
  const body = panel.querySelector('.panel-body');
  let selected = null;

  function render() {
    body.replaceChildren();
    if (!selected) {
      body.append(el('p', { class: 'muted', text: '在流程图中选中一个泳道、人工任务或自动任务，在这里设置它的平台属性。' }));
      return;
    }
    const bo = selected.businessObject;
    const kind = KINDS[bo.$type] || bo.$type.replace('bpmn:', '');
    body.append(
      el(
        'table',
        { class: 'kv' },
        el('tr', {}, el('th', { text: '类型' }), el('td', { id: 'prop-kind', text: kind })),
        el('tr', {}, el('th', { text: 'id' }), el('td', { class: 'mono', id: 'prop-id', text: bo.id })),
        el('tr', {}, el('th', { text: '名称' }), el('td', { text: bo.name || '（无）' }))
      )
    );
    let fields = [];
    if (bo.$instanceOf('bpmn:Lane')) fields = laneFields(selected, names, writer);
    else if (bo.$instanceOf('bpmn:UserTask')) fields = userTaskFields(selected, names, writer);
    else if (bo.$instanceOf('bpmn:ServiceTask')) fields = serviceTaskFields(selected, names, writer);
    if (fields.length) body.append(...fields.filter(Boolean));
    else body.append(el('p', { class: 'muted', text: '该元素没有本平台的属性；名称可在图中双击修改。' }));
  }

  modeler.on('selection.changed', ({ newSelection }) => {
    selected = newSelection.length === 1 ? newSelection[0] : null;
    render();
  });
  modeler.on('elements.changed', ({ elements }) => {
    if (selected && elements.includes(selected)) {
      const focused = document.activeElement && document.activeElement.id;
      render();
      if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
    }
  });
  render();
}
