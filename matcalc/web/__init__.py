"""The playground: matcalc in a local web page (``matcalc serve``), with a JSON API under it.

Needs the ``web`` extra (``pip install 'matcalc-symbolic[web]'``); ``import matcalc`` never loads
it. :mod:`matcalc.web.app` builds the ASGI application, :mod:`matcalc.web.server` serves it with
uvicorn, :mod:`matcalc.web.tasks` computes in worker processes (:mod:`matcalc.web.workers`).
"""
