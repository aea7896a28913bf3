"""Learn and binding edits of the control session (a part of ControlSession).

Learn: arm it (a target, or the next param edited in the window), move a
control, and the binding is written into the patch as one undo step. Binding
edits are validated (bindings.parse_binding) and are one undo step each.
Uses the session's `model`, `registry`, `report` and binding cache.
"""
from __future__ import annotations

from graph_runtime.control.bindings import Binding
from graph_runtime.control.mapping import default_range


class LearnAndBindings:
    def arm_learn(self, target: tuple[str, str] | None = None) -> None:
        """Learn on: the target is given, or the next param edited in the window."""
        self.learning, self.learn_target = True, target

    def watch_edits(self) -> None:
        """Take the snapshot `last_touched` compares against (cheap: a few kB)."""
        self._snapshot = {n.id: dict(n.params) for n in self.model.patch.nodes}

    def cancel_learn(self) -> None:
        self.learning, self.learn_target = False, None

    def _touched(self, nodes: tuple[str, ...], names: tuple[str, ...] = ()) -> None:
        """Which param the user just edited (a params change not made by us)."""
        for nid in nodes:
            spec = self.model.patch.node(nid)
            if spec is None:
                continue
            before = self._snapshot.get(nid, {})
            self._snapshot[nid] = dict(spec.params)
            moved = list(names) or [k for k, v in spec.params.items() if before.get(k) != v]
            if not moved:
                continue
            self.last_touched = (nid, moved[0])
            if self.learning and self.learn_target is None:
                self.learn_target = (nid, moved[0])
                self.report(f"learn: move a control for {nid}.{moved[0]}")

    def learn(self, source: str, channel: int, control) -> str | None:
        """Bind the armed target to this source (replacing the target's old binding)."""
        node, param = self.learn_target
        spec = self.model.patch.node(node)
        cls = self.registry.get(spec.type) if spec is not None else None
        prm = cls.param(param) if cls is not None else None
        if prm is None:
            self.cancel_learn()
            return f"learn: {node}.{param} is gone"
        lo, hi = default_range(prm)
        b = Binding(source, control, node, param, channel, lo, hi)
        raw = b.to_json()

        def edit(patch):
            patch.bindings[:] = [x for x in patch.bindings
                                 if (x.get("node"), x.get("param")) != (node, param)]
            patch.bindings.append(raw)

        _, reason = self.model.apply(f"learn {b.describe()} -> {node}.{param}", edit)
        self.cancel_learn()
        self.report(reason or f"learned {b.describe()} -> {node}.{param}")
        return reason

    def remove_binding(self, index: int) -> str | None:
        if not 0 <= index < len(self.model.patch.bindings):
            return f"no binding {index}"
        _, reason = self.model.apply("remove binding", lambda p: p.bindings.pop(index) and None)
        return reason

    def edit_binding(self, index: int, **fields) -> str | None:
        """Change a binding's range, curve, takeover... (validated; one undo step)."""
        from graph_runtime.control.bindings import parse_binding

        if not 0 <= index < len(self.model.patch.bindings):
            return f"no binding {index}"
        raw = dict(self.model.patch.bindings[index], **fields)
        b, reason = parse_binding(raw, f"binding {index}")
        if reason:
            return reason

        def edit(patch):
            patch.bindings[index] = b.to_json()

        return self.model.apply("edit binding", edit)[1]

    def bindings_for(self, node: str, param: str) -> list[Binding]:
        self._check_bindings()
        return [b for b in self.bindings if b.node == node and b.param == param]
