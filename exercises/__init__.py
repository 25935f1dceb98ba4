"""Workshop exercises: a function of the engine replaced by a stub, for a learner to write.

    make exercises                      the list
    make exercise NAME=pivot-root       a working copy in exercises/work/pivot-root/,
                                        with the function(s) stubbed: TODO and hints
    make exercise-check NAME=...        the focused tests, run against the working copy
    make exercise-hint NAME=...         the hints again
    make exercise-reset NAME=...        the stub again (your version kept as *.yours)
    make exercise-solution NAME=...     the project's own code, and how yours differs;
                                        APPLY=1 puts it into the working copy

catalog.py  the exercises: which file and function, the task, the hints, the tests
stub.py     how a function (or one statement in it) becomes a stub, with ast
workcopy.py the working copy: the engine copied, one file stubbed, checks run in it
"""
