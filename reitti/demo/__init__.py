"""Demo data: a year that mirrors the seed's 2010, taken through the real HTTP APIs.

``reitti demo`` (and ``reitti up --demo``) refers the 139 new clients of the seed's 2010
(TE-office 52 %, social services 5 %, self-referral 29 %, other 14 %), spread over the
seven municipalities by population, and takes each of them through intake (referral,
pick from the queue, consent, service-needs assessment) and guidance (named guide, health
check, plan, phases, transfers to and returns from social services, re-assessment) to a
closure with the seed's outcome mix: open labour market 13 %, education 15 %,
wage-subsidised work 17 %, outside the labour force 28 %, unemployed 14 %, interrupted 13 %.

Everything goes through the services' public HTTP APIs with signed tokens of the roles
that do each step in the centre, so the demo exercises the same rules, events, JetStream
hops and projections as real use. Guidance opens a case only when it has consumed
intake's ``AssessmentCompleted`` from JetStream, so the demo polls for it.

The year is planned first (:func:`plan_year`), from a seeded random generator, with exact
counts that round to the seed's shares: the same run gives the same data. Running it again
adds nothing: identity codes are the same, so intake answers ``already_present``, and
every later step is skipped when the case shows it is done.

The identity codes are synthetic: their individual numbers are in 900-999, the range
reserved for temporary codes, so none is a real person's.
"""

from reitti.demo.command import after_launch, load_issuer, main
from reitti.demo.http import DemoError, Endpoints
from reitti.demo.planner import DemoClient, plan_year
from reitti.demo.runner import DemoReport, run_demo

__all__ = [
    "DemoClient",
    "DemoError",
    "DemoReport",
    "Endpoints",
    "after_launch",
    "load_issuer",
    "main",
    "plan_year",
    "run_demo",
]
