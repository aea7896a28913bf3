"""What drives the image, said over the output when the patch does not compile.

The behaviour (one, everywhere): a patch that does not compile never stops
the show. If a plan is already playing -- from an earlier version of this
patch, or from the patch open before it -- it keeps driving the image, and
the notice over the output names that patch; if none ever compiled (a
broken patch at launch) nothing drives the image and the notice says
"N problems" instead of leaving a black picture to guess at. The details
are on the nodes (red) and in the Engine tab; the status bar has the first.

`PlanNotice` remembers which document the playing plan was compiled from
(the patch object and its name when the plan swapped in).
"""
from __future__ import annotations

Document = tuple[int, str]  # (id of the Patch object, its file name)


class PlanNotice:
    def __init__(self) -> None:
        self._plan_seen = None
        self.source: Document | None = None  # the document the playing plan came from

    def update(self, live, doc: Document) -> tuple[str, str] | None:
        """(text over the output, status line) when the patch does not
        compile, else None. Call after every swap or change of problems."""
        if live.plan is not self._plan_seen:
            self._plan_seen = live.plan
            self.source = doc if live.plan is not None else None
        if live.ok:
            return None
        errors = [p for p in live.problems if not getattr(p, "warning", False)] or live.problems
        n = max(1, len(errors))
        count = f"{n} problem{'s' if n > 1 else ''}"
        first = str(errors[0]) if errors else "does not compile"
        if live.plan is None or self.source is None:
            return (f"{count}: {doc[1]} does not compile - nothing drives the image yet "
                    f"(red nodes; Engine tab lists them)",
                    f"patch does not compile ({first}); nothing plays until it does")
        if self.source[0] != doc[0]:
            return (f"{count} in {doc[1]}: the image still comes from {self.source[1]}, "
                    f"the last patch that compiled",
                    f"{doc[1]} does not compile ({first}); {self.source[1]} keeps playing")
        return (f"{count}: the last version of {doc[1]} that compiled keeps playing",
                f"patch does not compile ({first}); its last good version keeps playing")
