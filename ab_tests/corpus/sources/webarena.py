"""WebArena: tasks that people wrote for an agent operating real (self-hosted) websites.

Repository: web-arena-x/webarena at commit f62e0b99bc7d9e0cd996d0cf5ebb2225780ec279.
Licence: Apache-2.0 (LICENSE at the repository root; the task file is part of the repository).

Read: config_files/test.raw.json, 812 tasks. The text is the task's `intent` verbatim. The label
is the task's `intent_template_id` (tasks were written as templates and instantiated, so one
template is one kind of request); the mapping below was decided per template, from the
template's text and its `sites`, once, and is listed here for review.

Mapped to browser: templates that transact or act on a website (buy, add to cart or wish list,
fill or draft a site's contact form without submitting, change an address, rate a purchase,
subscribe, post, reply, vote, edit a post or bio, create a forum) or that read the user's own
logged-in account on a shop (order history, spend, order status).
Left out (None): everything else. Product look-ups and review questions on the shop
(the guide puts product reviews and prices under web_search, but these live on a private test
shop, so neither label is clean); the shop's admin panel (its questions are reports over the
store's data, done through an admin UI: browser vs data_processing is unclear out of context);
GitLab (repository work done through the GitLab web UI: browser vs code_development); the map
site (directions and travel times: web_search vs browser); reddit questions that only count or
filter posts; and the cross-site GitLab+reddit/Wikipedia tasks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from sources._base import GitTree, Raw, Source


def read(tree: GitTree) -> Iterator[Raw]:
    for task in json.loads(tree.read_text("config_files/test.raw.json")):
        yield Raw(f"t{task['intent_template_id']}", task["intent"], "en",
                  f"config_files/test.raw.json#task_id={task['task_id']}")


BROWSER = ("browser",)

BROWSER_TEMPLATES = {
    # reddit (postmill forum): subscribe, post, edit bio, create forum, vote, reply, edit a post
    4: "Open the thread of a trending post on the forum ... and subscribe.",
    5: "Find a subreddit focused on topics related to ..., and post my question ... there",
    6: "Change my reddit bio to ...",
    7: "Create a new forum named ..., with a description of ..., and include ... in the sidebar?",
    9: "Post a review of my recent reading ... in the r/books with my comment ...",
    11: "Re-post the image of ... in this page to ... subreddit and note ...",
    12: "Ask for advice about ... in a subreddit for relations",
    13: "Create a discussion post about ... in a relevant subreddit and ask users for their opinions ...",
    15: "Ask for product recommendations for ... within a budget of ... in ...",
    16: "Post a notice on a virtual meetup for ... enthusiasts on ... in the ... subreddit",
    19: "Post in ... subreddit about what could machine learning help the correpong field.",
    22: "Upvote the newest post in ... subreddit",
    23: "Reply to ... in this post with ...",
    24: "Thumbs down the top ... post ever in ...",
    25: "Like all submissions created by ... in subreddit ...",
    27: "Edit my post on ... by adding a line to the body that says ...",
    1510: "DisLike all submissions created by ... in subreddit ...",
    3765: "Post my question, ..., in a subreddit where I'm likely to get an answer",
    6100: "Post in the most appropriate subreddit and ask for recommendations for ... products ...",
    # reddit + shop: collect review titles on the shop and post them on the forum
    101: "Gather the titles of ... reviews with ... rating from OneStopShop, and post them in the games subreddit ...",
    # shop, acting on the site
    145: "Add the product with the lowest per unit price from my open tabs to the shopping cart",
    153: "Fill the 'contact us' form in the site for a refund on the ... I bought ... Don't submit yet",
    154: "Draft a refund message via their 'contact us' form for the ... I bought ... Don't submit yet",
    156: "I previously ordered some ... and later cancelled. Can you reorder it for me?",
    163: "Draft an email to the shop owner via their contact us function for a coupon as ...",
    165: "I recently moved, my address is ..., update my information on OneStopShopping accordingly",
    172: "Buy the highest rated product from the ... category within a budget ...",
    186: "Add ... to my wish list",
    189: "Add a ... to my wish list.",
    191: "Change the delivery address for my most recent order to ...",
    194: "Rate my recent purchase of ... with ... stars, using my nickname ...?",
    196: "Add this product to my wishlist",
    199: "Subscribe to the newsletter of OneStopMarket",
    216: "Buy the best rating product from ... category with at least 5 reviews and ... least expensive",
    # shop, reading the user's own logged-in account (orders, spend, refunds)
    147: "How much I spend ... on shopping at One Stop Market?",
    155: "What is the ... configuration of the ... I bought ...",
    160: "How much refund I should expect from my order canlled in ..., including shipping fee",
    161: "What is the date when I made my first purchase on this site?",
    162: "How much I spent on ... shopping during ...",
    169: "Tell me when I last ordered my ...?",
    180: "Show the most recent ... order",
    193: "Tell me the status of my latest order and when will it arrive",
    197: "Today is 6/12/2023. Tell me how many fulfilled orders I have ..., and the total amount ...",
    206: "Show me the ... for order number ....",
    213: "Get the order number of my most recent ... order",
    214: "Tell me the total cost of my latest ... order?",
}

LEFT_OUT_TEMPLATES = {
    # shop: product look-ups, prices and reviews on a private test shop (web_search vs browser)
    "shopping": [134, 135, 136, 137, 138, 139, 151, 159, 171, 182, 188, 204, 207, 208, 210, 211, 212,
                 222, 370, 666, 1355, 1356],
    # reddit: questions that only count or filter posts
    "reddit": [17, 33],
    # shop admin panel: store reports and catalogue edits through an admin UI
    "shopping_admin": [234, 237, 240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252, 253,
                       255, 256, 257, 258, 266, 268, 270, 271, 274, 275, 276, 277, 279, 280, 284, 285,
                       287, 288, 364, 366, 367, 368, 742, 1001, 1002],
    # GitLab through its web UI (browser vs code_development)
    "gitlab": [289, 290, 291, 292, 293, 294, 298, 299, 300, 303, 308, 310, 312, 316, 320, 321, 322,
               323, 324, 325, 327, 328, 329, 330, 331, 332, 335, 337, 339, 348, 349, 351, 352, 354,
               355, 360, 361, 500, 600, 999, 2100],
    # map site: directions, distances, travel times (web_search vs browser)
    "map": [35, 36, 39, 41, 42, 46, 47, 49, 51, 52, 54, 58, 59, 64, 65, 66, 67, 68, 69, 70, 72, 73,
            75, 77, 78, 79, 501, 781, 782],
    # cross-site tasks mixing repository work, forum posts and encyclopaedia look-ups
    "cross_site": [84, 88, 116, 117, 87, 85, 94, 120, 371],
}

MAPPING: dict[str, tuple[str, ...] | None] = {
    **{f"t{template}": None for ids in LEFT_OUT_TEMPLATES.values() for template in ids},
    **{f"t{template}": BROWSER for template in BROWSER_TEMPLATES},
}

SOURCE = Source(
    name="webarena",
    repo="web-arena-x/webarena",
    commit="f62e0b99bc7d9e0cd996d0cf5ebb2225780ec279",
    licence="Apache-2.0",
    description="WebArena: human-written tasks for an agent operating a shop and a forum in a real browser",
    read=read,
    mapping=MAPPING,
    max_per_label=6,
    max_per_target=250,
    notes=(
        "Label = intent_template_id; 46 templates (shop transactions, the user's own order history, "
        "forum posting/voting) -> browser; the other 144 -> None (see the module docstring).",
        "Account look-ups on the shop ('Tell me the status of my latest order', 'How much I spent on "
        "... during ...') -> browser because they need logging in to the user's account on the site.",
        "'Draft an email to the shop owner via their contact us function' / refund drafts -> browser, "
        "not communication: the message goes through the site's form and is not sent.",
        "Forum posting/replying (reddit clone) -> browser, not communication (posting on a website).",
        "Templates are instantiated several times, so requests within a label are near-duplicates; "
        "max_per_label=6 keeps every instance (at most 6 per template).",
    ),
)
