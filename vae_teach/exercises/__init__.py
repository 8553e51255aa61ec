"""Checked "Try it" exercises, one module per notebook (`from vae_teach.exercises import elbo as exercises`).

Every `check_*` function prints ✓, or ✗ with a hint, or ○ while unanswered, and never raises for anything the
learner wrote (a wrong type or shape, an exception, an endless loop stopped after 10 s), so a notebook that
ships with its exercises unanswered still runs top to bottom. The answer runs on its own copies of the
inputs. Reference solutions live here, not in the notebooks; a broken reference raises CheckerError.

Every checker module re-exports `use_language`, so the setup cell of a notebooks/zh/ notebook switches the
verdicts to Chinese with `exercises.use_language("zh")` whichever module it imported as `exercises`.
"""

from vae_teach.exercises._messages import current_language, use_language

__all__ = ["current_language", "use_language"]
