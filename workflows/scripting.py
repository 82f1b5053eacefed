"""What expressions in BPMN and DMN files may call: a short list of harmless builtins.

Process models are edited by administrators (regional variants); their gateway
conditions, scripts and decision-table cells run with these builtins only.
"""

import builtins

SAFE_BUILTINS = {
    name: getattr(builtins, name)
    for name in (
        "len",
        "str",
        "int",
        "float",
        "bool",
        "min",
        "max",
        "abs",
        "round",
        "sum",
        "any",
        "all",
        "True",
        "False",
        "None",
        "dict",
        "list",
        "sorted",
    )
}
