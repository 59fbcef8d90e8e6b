"""Spider contracts of the vocseg scrapers (checked by `scrapy check`).

``@fixture NAME`` runs a callback on ``fixtures/NAME`` beside scrapy.cfg through a
file:// URL, so contracts run offline and never touch a real site.
"""

from pathlib import Path

from scrapy.contracts import Contract

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


class FixtureContract(Contract):
    """@fixture reviews_product.html"""

    name = "fixture"

    def adjust_request_args(self, args):
        args["url"] = (FIXTURES / self.args[0]).as_uri()
        return args
