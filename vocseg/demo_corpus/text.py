"""Phrase banks and text rendering for the demo corpus (see ``vocseg.demo_corpus``).

Templates use ``{a|b|c}`` for inline synonyms (``{|really }`` for an optional word) and
``{slot}`` for a filler drawn from ``SLOTS``. Every theme has negative, positive and
neutral/mixed sentences, review titles, and support-chat turns, so a theme is a family of
varied sentences that share vocabulary, not one repeated string.
"""

from __future__ import annotations

import random
import re

BRAND = "Brightcart"

SLOTS: dict[str, list[str]] = {
    "item": [
        "jacket",
        "pair of trainers",
        "kettle",
        "desk lamp",
        "backpack",
        "phone case",
        "duvet cover",
        "blender",
        "water bottle",
        "rain coat",
        "knife set",
        "pair of headphones",
        "yoga mat",
        "coffee grinder",
        "wool jumper",
        "bedside table",
        "frying pan",
        "hoodie",
        "toaster",
        "set of storage boxes",
        "pair of running shoes",
        "bath towel set",
        "office chair",
        "wall clock",
        "notebook set",
        "pair of sunglasses",
        "scarf",
        "air fryer",
        "bike light",
        "plant pot",
        "rucksack",
        "linen shirt",
        "cast iron pan",
        "bluetooth speaker",
    ],
    "days": ["3", "4", "5", "6", "8", "10", "twelve", "five", "seven", "nine", "ten"],
    "weeks": ["two", "three", "2", "3", "four"],
    "courier": [
        "the courier",
        "the delivery driver",
        "DPD",
        "Royal Mail",
        "UPS",
        "Evri",
        "the driver",
    ],
    "amount": ["€12.99", "€24.50", "€39.00", "€49.95", "€8.99", "€64.20", "€19.99", "€110.00"],
    "version": ["5.2", "5.2.1", "5.2.0", "the 5.2"],
    "feature": [
        "dark mode",
        "wishlist sharing",
        "Apple Pay",
        "order history export",
        "split payments",
        "a size filter",
        "gift wrapping",
        "saved addresses",
        "price drop alerts",
        "offline mode",
        "better search filters",
        "two-factor login",
        "a reorder button",
        "PayPal",
    ],
    "agent": ["Sam", "Priya", "Tom", "Aisha", "Luca", "Mei", "Jonas", "Fatima", "Ben", "Chloe"],
    "order": ["BC-48213", "BC-50127", "BC-39904", "BC-61350", "BC-47781", "BC-55062", "BC-40219"],
    "weekday": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "app_part": [
        "checkout",
        "login screen",
        "basket",
        "search page",
        "payment step",
        "order tracking page",
        "product page",
        "home screen",
    ],
    "device": ["iPhone", "Android phone", "Pixel", "Samsung", "iPad", "old iPhone"],
    "wait": ["45 minutes", "an hour", "over two hours", "forty minutes", "90 minutes"],
    "fee": ["delivery fee", "membership fee", "service charge", "express shipping fee"],
    "relative": ["mum", "dad", "sister", "brother", "partner", "friend", "daughter", "son"],
}

# name -> description, negative / positive / neutral sentences, review titles,
# chat question (neutral opener), chat detail, agent reply, agent resolution.
THEMES: dict[str, dict[str, list[str] | str]] = {
    "delivery_delay": {
        "description": "Late, slow or lost deliveries; parcels stuck in transit; tracking not updating.",
        "neg": [
            "My {order|parcel|package} arrived {days} days late{| and nobody told me why}.",
            "Still waiting for my delivery after {weeks} weeks, the tracking hasn't moved since {weekday}.",
            "{Delivery|Shipping} took forever, the {item} turned up {days} days after the promised date.",
            "The parcel was stuck in transit for {days} days with {courier}.",
            "Tracking said out for delivery three times and the parcel {never came|still hasn't arrived}.",
            "Paid for next day delivery and it took {days} days{|, what a joke}.",
            "{The courier|The driver|DPD} marked it as delivered but there was no parcel at my door.",
            "Delivery was {so|really|incredibly} slow, I had to buy the {item} somewhere else in the end.",
            "The estimated delivery date keeps moving and my {order|parcel} is still not here.",
            "Late delivery again, second time this month my parcel has been delayed.",
        ],
        "pos": [
            "Delivery was {quick|fast|super fast}, the {item} arrived {the next day|in two days|a day early}.",
            "My parcel {arrived|turned up|came} earlier than the delivery estimate{|, brilliant}.",
            "{Shipping|Delivery} was {speedy|quick} and the tracking updates were spot on.",
            "Ordered on {weekday} and the parcel was at my door the next morning.",
            "Really impressed with how fast delivery was this time.",
            "{The courier|The delivery driver} was on time and the parcel arrived {in perfect shape|safely}.",
        ],
        "neu": [
            "Delivery took about {days} days, which is roughly what the website said.",
            "The parcel came a day later than promised but everything was in it.",
            "Delivery was fine but the tracking updates were a bit vague.",
            "Shipping was a little slow but the {item} itself is {good|nice|fine}.",
            "The parcel arrived on time, though {courier} left it with a neighbour.",
        ],
        "title_neg": [
            "Late delivery",
            "Still waiting for my parcel",
            "Slow shipping",
            "Delivery delayed again",
            "Where is my order?",
        ],
        "title_pos": ["Fast delivery", "Arrived next day", "Quick shipping", "Speedy delivery"],
        "title_neu": ["Delivery ok", "A bit slow to arrive", "Arrived eventually"],
        "ask": [
            "Hi, can you tell me when my order {order} will be delivered?",
            "Hello, my tracking hasn't updated for a few days, is my parcel on its way?",
            "Hi there, what's the delivery estimate for order {order}?",
        ],
        "detail": [
            "The order number is {order}, it was due on {weekday} and the tracking still says in transit.",
            "It's order {order}. The courier page says delayed but gives no new delivery date.",
            "Order {order}, it was supposed to arrive {days} days ago.",
        ],
        "agent": [
            "I'm sorry your parcel is late. I've checked with {courier} and it is delayed at their depot.",
            "Thanks for waiting. Your order is in transit, the courier shows a delay of a couple of days.",
            "I can see the parcel has been held up at the sorting centre, I've raised a trace with the courier.",
        ],
        "resolve": [
            "I've refunded your delivery fee and the parcel should arrive by {weekday}.",
            "If it hasn't arrived by {weekday} I'll send a replacement at no cost.",
            "I've upgraded your delivery and you'll get a new tracking link by email.",
        ],
    },
    "returns_exchanges": {
        "description": "Returning or exchanging items: return labels, drop-off, exchange processing time.",
        "neg": [
            "Returning the {item} was a nightmare, the return label {never arrived|didn't work}.",
            "I sent my return back {weeks} weeks ago and the exchange still hasn't been processed.",
            "The returns process is {so|really} complicated, you have to print a label and find a drop-off point.",
            "They refused my return because the box was opened{|, ridiculous}.",
            "Exchanged the {item} for a different size and they sent the same size again.",
            "No free returns any more, I had to pay to send back a faulty {item}.",
            "My return shows as received but the exchange {item} never got sent out.",
        ],
        "pos": [
            "Returning the {item} was {easy|simple|painless}, printed the label and dropped it off.",
            "The exchange was quick, the new size arrived {two|three} days after I sent the return.",
            "Free returns {and a simple process|with a QR code, no printer needed}, really convenient.",
            "Swapped the {item} for another colour without any hassle.",
            "The returns portal is {easy|straightforward} and the exchange was processed fast.",
        ],
        "neu": [
            "The return was accepted but it took a while to get the exchange.",
            "Returns are free, though you have to drop the parcel off yourself.",
            "Sent the {item} back for a different size, still waiting to hear about the exchange.",
            "The return label worked but the instructions could be clearer.",
        ],
        "title_neg": ["Return nightmare", "Exchange never processed", "Awful returns process"],
        "title_pos": ["Easy returns", "Hassle-free exchange", "Simple return"],
        "title_neu": ["Return took a while", "Exchange ok"],
        "ask": [
            "Hi, how do I return a {item} that doesn't fit?",
            "Hello, can I exchange my {item} for a different size?",
            "Hi, I'd like to send back part of order {order}, how does the return work?",
        ],
        "detail": [
            "I dropped the return off on {weekday}, the label number is on the receipt.",
            "It's the {item} from order {order}, I need a size up.",
            "The return was sent {weeks} weeks ago and the exchange still isn't showing.",
        ],
        "agent": [
            "You can start a return from your orders page; a free return label will be emailed to you.",
            "I've checked and your return reached our warehouse, the exchange is being processed.",
            "Sorry about the wait, our returns team has a backlog this week.",
        ],
        "resolve": [
            "I've sent the exchange out today on express delivery.",
            "I've emailed you a new return label that you can use at any drop-off point.",
            "The exchange has been approved and will be dispatched by {weekday}.",
        ],
    },
    "billing_error": {
        "description": "Billing mistakes: charged twice, wrong amount, refunds not received, unexpected fees.",
        "neg": [
            "I was {charged twice|double charged|billed twice} for the same order{|, {amount} taken two times}.",
            "Still waiting for my refund of {amount} after {weeks} weeks.",
            "There's a {fee} on my bill that I never agreed to.",
            "My card was charged {amount} for an order I cancelled.",
            "The invoice shows the wrong amount and nobody can explain the extra charge.",
            "Got charged the full price even though the discount code was applied at checkout.",
            "The refund was promised {days} days ago and my bank still shows nothing.",
            "They took payment for my {item} twice and only refunded one of them.",
        ],
        "pos": [
            "My refund {came through|arrived|was processed} within {two|three} days, very fair.",
            "Spotted a billing mistake and they corrected the charge straight away.",
            "The refund for the cancelled order was back on my card {quickly|the same week}.",
            "Billing is clear, the invoice matched exactly what I paid.",
            "They refunded the {fee} without me even asking.",
        ],
        "neu": [
            "The refund came through in the end but it took {weeks} weeks.",
            "There was a small billing error, but it was sorted after one email.",
            "I got the refund, although the invoice still shows the old amount.",
            "Payment went through fine but the receipt was a bit confusing.",
        ],
        "title_neg": ["Charged twice!", "Where is my refund?", "Billing error", "Overcharged"],
        "title_pos": ["Quick refund", "Billing sorted fast", "Fair refund"],
        "title_neu": ["Refund took a while", "Billing ok in the end"],
        "ask": [
            "Hi, I have a question about a charge on my card for order {order}.",
            "Hello, when will I get my refund for the cancelled order?",
            "Hi, there's a payment of {amount} I don't recognise, can you check it?",
        ],
        "detail": [
            "The charge of {amount} appears twice on my statement, both on {weekday}.",
            "The refund for order {order} was approved but hasn't reached my card.",
            "It's order {order}, the invoice says {amount} but I paid less at checkout.",
        ],
        "agent": [
            "I'm sorry about the double charge. I can see two payments and I've cancelled the duplicate.",
            "I've checked the refund: it was issued on our side and can take 3-5 working days to show.",
            "Thanks for flagging this, the extra charge was a billing error on our side.",
        ],
        "resolve": [
            "I've refunded {amount} to your card and emailed you a corrected invoice.",
            "The duplicate payment has been reversed, you'll see it within a few days.",
            "I've added a credit to your account for the trouble.",
        ],
    },
    "price_value": {
        "description": "Price and value for money: too expensive, price rises, good deals, discounts.",
        "neg": [
            "{Way|Far|Much} too expensive for what you get, the {item} is not worth {amount}.",
            "Prices have gone up {again|a lot} and the quality hasn't.",
            "I found the same {item} {much|a lot} cheaper elsewhere.",
            "Overpriced, especially once you add the {fee}.",
            "Not good value for money{|, I expected more at this price}.",
            "The {item} costs {amount} here, that's a rip off.",
            "Their prices keep creeping up, I can't justify shopping here any more.",
        ],
        "pos": [
            "{Great|Excellent|Really good} value for money, the {item} was only {amount}.",
            "{Cheaper|Better priced} than the high street and the quality is just as good.",
            "Bought the {item} in the sale, an absolute bargain.",
            "Fair prices and the member discount makes it even better.",
            "Prices are reasonable and there is always a deal on.",
        ],
        "neu": [
            "The {item} is a bit pricey but it does the job.",
            "Prices are ok, not the cheapest but not the most expensive either.",
            "Decent value in the sale but I wouldn't pay full price.",
            "It's expensive, but you get what you pay for.",
        ],
        "title_neg": ["Overpriced", "Poor value", "Too expensive", "Prices up again"],
        "title_pos": ["Great value", "Bargain!", "Good price"],
        "title_neu": ["Pricey but ok", "Fair price"],
        "ask": [
            "Hi, will the {item} go on sale soon?",
            "Hello, can I get a price match on the {item}?",
            "Hi, does my discount code work on sale items?",
        ],
        "detail": [
            "I've seen the same {item} for less on another site.",
            "The discount code didn't reduce the price of the {item}.",
            "The price went up by {amount} the day after I added it to my basket.",
        ],
        "agent": [
            "We don't offer price matching at the moment, but there is a promotion starting on {weekday}.",
            "I've checked and the discount applies to full-price items only.",
            "Prices change with our suppliers' costs, I'm sorry for the frustration.",
        ],
        "resolve": [
            "I've applied a 10% discount code to your account for your next order.",
            "I've refunded the price difference of {amount}.",
            "I've passed your feedback on pricing to our team.",
        ],
    },
    "app_crash": {
        "description": "The mobile app crashing, freezing or not opening, especially after an update.",
        "neg": [
            "The app {keeps crashing|crashes|freezes} on the {app_part}{| and I have to restart it}.",
            "The app {crashed|froze} {twice|three times} while I was paying, so I gave up.",
            "App {won't open|won't load|closes straight away} on my {device}.",
            "Every time I open the {app_part} the app {crashes|freezes|goes blank}.",
            "The app is {so|really} buggy, it crashed in the middle of checkout.",
            "App crashed and my basket was emptied, really annoying.",
        ],
        "surge": [
            "Since the {latest|last|new} update the app {crashes|keeps crashing|closes itself} every time I open it.",
            "After updating to version {version} the app {won't open|crashes on launch|freezes on the splash screen}.",
            "The {latest|new} app update broke everything, it crashes on the {app_part}.",
            "App {crashes|keeps crashing} since the update on my {device}, can't even log in.",
            "Updated the app on {weekday} and now it {crashes|freezes} as soon as I {open the basket|try to pay|log in}.",
            "{Please|Pls} fix the app, it's been crashing since the {version} update.",
            "Version {version} of the app is unusable, it crashes {constantly|every few seconds|on every screen}.",
            "Ever since the update the app {freezes|crashes} on the {app_part} and I lose my basket.",
        ],
        "pos": [
            "The app {used to crash|was buggy} but it has been {rock solid|stable} lately.",
            "No more crashes since they fixed the app, it runs smoothly now.",
            "The app is {stable|fast} and never crashes on my {device}.",
        ],
        "neu": [
            "The app crashed once but worked fine after a restart.",
            "App is ok but freezes now and then on the {app_part}.",
            "The app crashes occasionally, though the website works fine.",
        ],
        "title_neg": ["App keeps crashing", "App broken", "Crashes constantly", "App won't open"],
        "title_pos": ["App stable now", "No more crashes"],
        "title_neu": ["App mostly works", "Occasional crash"],
        "ask": [
            "Hi, the app closes when I open the {app_part}, is there a known problem?",
            "Hello, is the app down? It won't load on my {device}.",
        ],
        "detail": [
            "I'm on an {device}, the app crashes as soon as I open the {app_part}.",
            "I've reinstalled the app twice and it still crashes after the update.",
            "It crashes on version {version}, I've restarted my {device} already.",
        ],
        "agent": [
            "Thanks for reporting the crash. Our developers are aware of a problem with the latest app update.",
            "Sorry about the app crashing, could you tell me which version and device you're using?",
            "We've had several reports of the app crashing since the update and a fix is on the way.",
        ],
        "resolve": [
            "A fixed version of the app is being released this week; until then the website works.",
            "I've logged your crash report with our app team and added a voucher for the trouble.",
            "Please update to the newest version when it appears in the store, it fixes the crash.",
        ],
    },
    "ease_of_use": {
        "description": "How easy the website and app are to use: navigation, search, checkout flow.",
        "neg": [
            "The website is {so|really|very} confusing, I couldn't find the {item} in search.",
            "Checkout takes {too many|far too many} steps and keeps asking for my address again.",
            "The new website layout is hard to navigate, everything is hidden in menus.",
            "Search results are useless, typing {item} shows completely unrelated products.",
            "Couldn't work out how to change my delivery address in my account.",
            "The filters on the website {don't work|are a mess}, finding anything takes ages.",
        ],
        "pos": [
            "The {website|site|online shop} is {really|very|super} easy to use and checkout takes seconds.",
            "{Easy|Simple} to find what I need, the search works really well.",
            "Love how {simple|intuitive|clean} the site is, ordering the {item} took two minutes.",
            "The new layout is clear and easy to navigate.",
            "One-click reorder makes it so easy to use.",
            "Very user friendly site, even my {relative} managed to order on it.",
        ],
        "neu": [
            "The site is easy enough to use but search could be better.",
            "Checkout is simple, though finding the right size filter took a while.",
            "The website works, but the menus are a bit cluttered.",
            "Navigation is ok once you get used to it.",
        ],
        "title_neg": ["Confusing website", "Hard to use", "Checkout is a pain"],
        "title_pos": ["Easy to use", "So simple", "User friendly"],
        "title_neu": ["Usable", "Ok to navigate"],
        "ask": [
            "Hi, how do I change my delivery address on my account?",
            "Hello, where do I find my saved items on the website?",
            "Hi, I can't find the size filter on the search page, where is it?",
        ],
        "detail": [
            "I'm on the {app_part} and there's no button to change it.",
            "I've looked through all the menus and can't find the option.",
            "The search for {item} only shows unrelated products.",
        ],
        "agent": [
            "You can change your address under Account, then Addresses; I'll walk you through it.",
            "Thanks for the feedback on navigation, the option is under the menu at the top right.",
            "I understand the new layout takes some getting used to.",
        ],
        "resolve": [
            "I've sent you a short guide by email with screenshots.",
            "I've passed your feedback about the layout to our design team.",
            "I've updated the address for you on this order.",
        ],
    },
    "missing_features": {
        "description": "Requests for features the app or site lacks.",
        "neg": [
            "Why is there still no {feature}? Every other shop has it.",
            "The {shop|site|checkout} {really needs|badly needs|is missing} {feature}, it's {2026|basic stuff}.",
            "Can't believe you don't support {feature} yet.",
            "I'd order more if you offered {feature}.",
            "Still no {feature} after years of customers asking for it.",
        ],
        "pos": [
            "{Finally|Great that} they added {feature}, it makes ordering so much better.",
            "Love that they now offer {feature}, exactly what I wanted.",
            "They keep adding new options, {feature} is a great addition.",
        ],
        "neu": [
            "The shop is fine but it would be nice to have {feature}.",
            "Would love to see {feature} added at some point.",
            "Good shop overall, just missing {feature}.",
            "{Feature request|Suggestion}: please add {feature}.",
        ],
        "title_neg": ["Missing basic features", "Please add features", "Still no {feature}"],
        "title_pos": ["Great new feature", "Finally!"],
        "title_neu": ["Feature request", "Nice to have"],
        "ask": [
            "Hi, is {feature} coming soon?",
            "Hello, do you support {feature}?",
            "Hi, is there a way to use {feature} on the website?",
        ],
        "detail": [
            "I'd really like {feature}, it would save me a lot of time.",
            "Other shops already offer {feature}, so I was surprised you don't.",
            "I mostly order on my {device} and {feature} would help a lot.",
        ],
        "agent": [
            "Thanks for the suggestion! We don't have {feature} yet, but I've added your vote to the request.",
            "Our product team is looking at {feature} for a future release.",
            "I understand, a lot of customers have asked for {feature}.",
        ],
        "resolve": [
            "I've logged your feature request and you'll hear from us when it launches.",
            "I'll pass this on to the product team as a priority request.",
            "In the meantime the website has a workaround, I've emailed you the steps.",
        ],
    },
    "product_quality": {
        "description": "Product quality and durability: faulty, broken, poorly made, or well made and sturdy.",
        "neg": [
            "The {item} {broke|fell apart|stopped working} after {two|three|a few} weeks.",
            "Really poor quality, the stitching on the {item} came undone after one wash.",
            "The {item} feels {cheap|flimsy|badly made} and nothing like the photos.",
            "Arrived with a scratch and a {loose|wobbly|cracked} part, the quality control is awful.",
            "The material of the {item} is thin and already pilling.",
            "Second {item} in a row that was faulty out of the box.",
            "The {item} is poorly made, the handle snapped on day one.",
        ],
        "pos": [
            "The {item} is {really|very|beautifully} well made, feels sturdy and solid.",
            "{Excellent|Great|Top} quality, my {item} still looks new after months of use.",
            "The material is {thick|soft|lovely} and the {item} is clearly built to last.",
            "Better quality than I expected, the {item} is {solid|well finished}.",
            "Quality is superb, you can tell the {item} is made properly.",
        ],
        "neu": [
            "The {item} is decent quality for the price, nothing special.",
            "Looks nice but the {item} feels a little lighter than I expected.",
            "Quality is ok, though one seam on the {item} was a bit loose.",
            "The {item} does what it should, but I'm not sure how long it will last.",
        ],
        "title_neg": ["Poor quality", "Broke after a week", "Cheaply made", "Faulty item"],
        "title_pos": ["Excellent quality", "Built to last", "Well made"],
        "title_neu": ["Decent quality", "Ok for the price"],
        "ask": [
            "Hi, my {item} has a defect, what should I do?",
            "Hello, is the {item} covered by a warranty?",
        ],
        "detail": [
            "The {item} from order {order} has a crack along the side.",
            "It stopped working after {weeks} weeks of normal use.",
            "I've attached photos of the faulty {item}.",
        ],
        "agent": [
            "I'm sorry the {item} is faulty, that's not the quality we expect.",
            "Thanks for the photos, that's clearly a manufacturing defect.",
            "Our products carry a one-year warranty, so we can definitely help.",
        ],
        "resolve": [
            "I've arranged a replacement {item} to be sent out today.",
            "I've issued a full refund and you don't need to send the faulty item back.",
            "I've logged the defect with our quality team and sent a replacement.",
        ],
    },
    "sustainability": {
        "description": "Packaging waste and sustainability: plastic, oversized boxes, eco-friendly materials.",
        "neg": [
            "So much plastic packaging for one small {item}{|, completely unnecessary}.",
            "A huge box full of bubble wrap for a {item}, terrible for the environment.",
            "Every item came in a separate plastic bag, not very sustainable.",
            "They claim to be eco-friendly but the packaging is {all plastic|mostly plastic|not recyclable}.",
            "Three separate deliveries for one order, think of the emissions.",
        ],
        "pos": [
            "Love the {plastic-free|recyclable|compostable} packaging, everything came in paper.",
            "Great to see a shop taking sustainability seriously, minimal packaging.",
            "The {item} is made from recycled materials and arrived in a recyclable box.",
            "Packaging was {minimal|plastic free} and easy to recycle.",
            "Happy that they {offer|have} a carbon neutral delivery option.",
        ],
        "neu": [
            "Packaging was mostly cardboard, but there was still some plastic inside.",
            "Would be nice to have an option for less packaging.",
            "The box was recyclable, though far too big for the {item}.",
            "Good that they use recycled materials, but the delivery came in two boxes.",
        ],
        "title_neg": ["Too much plastic", "Wasteful packaging", "Not eco friendly"],
        "title_pos": ["Plastic free!", "Sustainable packaging", "Eco friendly"],
        "title_neu": ["Packaging could improve"],
        "ask": [
            "Hi, can I ask for plastic-free packaging on my order?",
            "Hello, is your packaging recyclable?",
        ],
        "detail": [
            "My last order came in a box five times the size of the {item}.",
            "Each item was wrapped in its own plastic bag.",
        ],
        "agent": [
            "Thanks for raising this, we're moving all our packaging to recyclable cardboard.",
            "I understand, we're working to remove plastic from our packaging this year.",
        ],
        "resolve": [
            "I've added a note to your account to use minimal packaging.",
            "I've shared your feedback with our sustainability team.",
        ],
    },
    "helpful_support": {
        "description": "Customer service staff: helpful, friendly, knowledgeable, or rude and unhelpful.",
        "neg": [
            "The {customer service|support|customer support} agent was {rude|unhelpful|dismissive} and just read from a script.",
            "Support {couldn't|didn't} answer a simple question and kept passing me around.",
            "Customer service promised to call me back and {never did|nobody ever called}.",
            "The agent closed my ticket without solving anything.",
            "Support gave me three different answers to the same question.",
        ],
        "pos": [
            "{{agent}|The agent} in customer service was {so|really|incredibly} helpful and sorted everything out.",
            "{Brilliant|Amazing|Excellent|Fantastic} customer service, {agent} went above and beyond.",
            "The support team was friendly and fixed my problem {in minutes|straight away|on the first call}.",
            "Really helpful support, {agent} explained everything clearly.",
            "Customer service {were|was} {kind|patient|lovely} and solved it without any fuss.",
            "Big thanks to {agent} from the support team, {top service|great help}!",
        ],
        "neu": [
            "Customer service was polite but it took two emails to get an answer.",
            "Support sorted the issue eventually, though I had to explain it twice.",
            "The agent was friendly, but couldn't do much about the problem.",
            "Customer service was ok, nothing special.",
        ],
        "title_neg": ["Unhelpful customer service", "Rude support", "Support useless"],
        "title_pos": ["Amazing customer service", "Helpful support team", "Thank you {agent}!"],
        "title_neu": ["Support ok", "Polite support"],
        "ask": [
            "Hi, I spoke to someone in support last week, can I continue that conversation?",
            "Hello, I need some help with my account please.",
        ],
        "detail": [
            "The agent I spoke to before said someone would call me back.",
            "I explained everything to your colleague on {weekday} already.",
        ],
        "agent": [
            "Of course, I've found your previous conversation and I'm happy to help.",
            "Thanks for your patience, I'll make sure this gets sorted today.",
            "I'm sorry you had to explain it again, I have all the details now.",
        ],
        "resolve": [
            "That's all done for you now, is there anything else I can help with?",
            "I've sorted that out and sent a confirmation by email.",
        ],
    },
    "support_wait": {
        "description": "Waiting to reach support: long hold times, slow email replies, no answer.",
        "neg": [
            "Waited {wait} on hold {to speak to someone|before anyone answered}.",
            "{Emailed|Messaged} support {three|four|several} times and still no reply after {days} days.",
            "The chat queue said I was number {20|35|48} in line, {ridiculous|unacceptable}.",
            "Impossible to reach anyone, the phone line {just rings out|keeps cutting off}.",
            "Took {days} days to get a reply to a simple question.",
            "Support response times are {terrible|awful|getting worse}.",
        ],
        "pos": [
            "Got through to support {in under a minute|straight away|within two minutes}.",
            "{Super|Really} quick reply from support, {less than an hour|within the hour}.",
            "No waiting at all, the chat {connected|answered} instantly.",
            "Fast response times from the support team{|, impressive}.",
        ],
        "neu": [
            "Waited about twenty minutes on hold, then the issue was fixed quickly.",
            "The email reply took a couple of days but answered my question.",
            "Chat queue was long, but the agent was helpful once I got through.",
        ],
        "title_neg": ["Hours on hold", "No reply from support", "Can't reach anyone"],
        "title_pos": ["Quick response", "No waiting"],
        "title_neu": ["Slow but helpful"],
        "ask": [
            "Hi, I've been waiting for a reply to my email for days, is anyone there?",
            "Hello, I tried calling but couldn't get through.",
        ],
        "detail": [
            "I sent the first email on {weekday} and got an automatic reply only.",
            "I was on hold for {wait} yesterday before the line cut off.",
        ],
        "agent": [
            "I'm sorry for the wait, we're receiving a very high number of messages at the moment.",
            "Apologies for the delay in replying, I'm picking up your case now.",
        ],
        "resolve": [
            "I've answered your earlier email and marked your case as a priority.",
            "Here is a direct reference so you won't need to queue again: {order}.",
        ],
    },
    "trust_privacy": {
        "description": "Trust, data privacy and security: marketing emails, data sharing, account security.",
        "neg": [
            "I keep getting marketing emails even though I {unsubscribed|opted out} {twice|months ago}.",
            "Why do you need my date of birth to buy a {item}? Not happy sharing that.",
            "Someone logged into my account from another country and ordered a {item}.",
            "I don't trust how this company uses my data after the {last|recent} breach.",
            "They shared my details with third parties without asking, I'm getting spam calls now.",
        ],
        "pos": [
            "{Clear|Transparent} privacy settings, it's easy to control what they send me.",
            "I trust them with my details, they never spam me.",
            "Good to see two-factor login, my account feels secure.",
            "They deleted my old data when I asked, no questions.",
        ],
        "neu": [
            "The privacy policy is long, but at least you can opt out of marketing.",
            "Too many emails, though unsubscribing works.",
            "Account security seems fine, but I'd like a clearer privacy page.",
        ],
        "title_neg": ["Spam and privacy concerns", "Account hacked", "Don't trust them with data"],
        "title_pos": ["Trustworthy", "Respects privacy"],
        "title_neu": ["Too many emails"],
        "ask": [
            "Hi, how do I stop the marketing emails?",
            "Hello, can you delete the data you hold about me?",
            "Hi, I think someone got into my account.",
        ],
        "detail": [
            "I unsubscribed last month and still get emails every day.",
            "There's an order on my account that I didn't place.",
        ],
        "agent": [
            "I've secured your account and reset your password, please set a new one.",
            "I'm sorry about the emails, I've removed you from all marketing lists.",
            "I understand your concern, your data request has been passed to our privacy team.",
        ],
        "resolve": [
            "Your data deletion request has been confirmed and will be completed within 30 days.",
            "I've cancelled the unauthorised order and turned on extra security for your account.",
        ],
    },
}

THEME_NAMES = list(THEMES)

OPENERS = {
    "review": [
        "",
        "",
        "",
        "Ordered a {item} last month.",
        "Second order from {BRAND|this shop|them}.",
        "Long time customer here.",
        "Bought this as a gift for my {relative}.",
        "First time ordering here.",
        "I've shopped here for years.",
        "Ordered on {weekday}.",
    ],
    "social": [
        "",
        "",
        "",
        "@Brightcart",
        "Hey @Brightcart",
        "Dear @Brightcart,",
        "So",
        "Ugh,",
        "Wow,",
    ],
    "survey": ["", "", "", "Short version:", "Reason for my score:", "Honestly,", "Overall,"],
}

CLOSERS = {
    "positive": [
        "",
        "",
        "Would recommend.",
        "Will order again.",
        "Very happy overall.",
        "Keep it up!",
        "Five stars from me.",
        "Thanks {BRAND|team|guys}!",
        "Couldn't be happier.",
    ],
    "negative": [
        "",
        "",
        "Not impressed.",
        "Won't be ordering again.",
        "Really disappointed.",
        "Sort it out.",
        "Avoid.",
        "Not good enough.",
        "Thinking of cancelling my account.",
    ],
    "neutral": [
        "",
        "",
        "",
        "We'll see how it goes.",
        "Decent enough overall.",
        "Room for improvement.",
        "It's ok.",
    ],
}

HEDGES = [
    "Honestly, ",
    "To be fair, ",
    "I think ",
    "tbh ",
    "Not gonna lie, ",
    "I have to say ",
    "In all honesty ",
    "I guess ",
    "Tbh ",
    "Just saying, ",
]

HASHTAGS = {
    "positive": ["#happycustomer", "#recommend", "#love", "#greatservice", ""],
    "negative": ["#fail", "#notimpressed", "#badservice", "#annoyed", ""],
    "neutral": ["", "", "#feedback"],
}

CHAT_GREETINGS = ["Hi", "Hello", "Hi there", "Hey", "Good morning", "Hiya"]
AGENT_GREETINGS = [
    "Hi, thanks for contacting {BRAND|us}, this is {agent}.",
    "Hello, {agent} here.",
    "Hi, my name is {agent} and I'll help you today.",
    "Thanks for getting in touch.",
]
CHAT_ANGRY = [
    "This is the third time I've had to chase this.",
    "I'm really fed up with this.",
    "This is completely unacceptable.",
    "Honestly this is so frustrating.",
]
CHAT_CLOSE = {
    "positive": [
        "Brilliant, thanks {agent}, that's sorted it!",
        "Thank you so much, really helpful.",
        "Perfect, thanks for the quick help.",
        "Great, really appreciate it, thanks!",
    ],
    "neutral": [
        "Ok, thanks.",
        "Alright, I'll wait and see then.",
        "Ok, noted.",
        "Fine, thanks for checking.",
    ],
    "negative": [
        "That's not good enough, I want this fixed now.",
        "I'll be taking my business elsewhere.",
        "Useless. I'm cancelling my account.",
        "Not happy at all with this.",
    ],
}
# short theme reminders appended to a chat closing turn, so every customer turn carries its theme
CLOSE_REF = {
    "delivery_delay": ["Hope the parcel actually turns up this time.", "I just want my delivery."],
    "returns_exchanges": ["I'll watch out for the exchange.", "Hope the return is processed soon."],
    "billing_error": ["I'll check my card for the refund.", "I just want my money back."],
    "price_value": ["I'll keep an eye on the prices.", "Still think it's overpriced though."],
    "app_crash": ["Please fix the app crashing.", "I'll update the app when the fix is out."],
    "ease_of_use": ["The website could still be easier to use.", "I'll try the guide."],
    "missing_features": ["Hope you add that feature soon.", "Looking forward to the new feature."],
    "product_quality": [
        "Hope the replacement is better quality.",
        "I'll check the new one carefully.",
    ],
    "sustainability": ["Less plastic next time please.", "Hope the packaging improves."],
    "helpful_support": ["Thanks for the help.", "Glad someone could help."],
    "support_wait": [
        "Shouldn't take days to get a reply though.",
        "Hope I won't wait so long next time.",
    ],
    "trust_privacy": ["I want my data protected.", "Please keep my account secure."],
}

_TOKEN = re.compile(r"\{([^{}]*)\}")


def expand(rng: random.Random, template: str, fixed: dict[str, str] | None = None) -> str:
    """Fill ``{a|b}`` alternatives and ``{slot}`` fillers (``fixed`` pins some slots, e.g. the
    reviewed product as ``item``); ``{BRAND}`` is the shop's name."""

    def sub(m: re.Match[str]) -> str:
        body = m.group(1)
        if fixed and body in fixed:
            return fixed[body]
        if "|" in body:
            choice = rng.choice(body.split("|"))
            return BRAND if choice == "BRAND" else choice
        if body == "BRAND":
            return BRAND
        if body == "Feature":
            return _cap(rng.choice(SLOTS["feature"]))
        return rng.choice(SLOTS[body])

    # two passes: an alternative may itself be a slot ("{{agent}|The agent}")
    text = _TOKEN.sub(sub, template)
    return _TOKEN.sub(sub, text) if "{" in text else text


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


def sentence(rng: random.Random, bank: list[str], fixed: dict[str, str] | None = None) -> str:
    return _cap(expand(rng, rng.choice(bank), fixed).strip())


def typo(rng: random.Random, text: str) -> str:
    """One realistic slip: swapped, dropped or doubled letter in a longer word."""
    words = text.split(" ")
    idx = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not idx:
        return text
    i = rng.choice(idx)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    kind = rng.random()
    if kind < 0.4:
        w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    elif kind < 0.7:
        w = w[:j] + w[j + 1 :]
    else:
        w = w[:j] + w[j] + w[j:]
    words[i] = w
    return " ".join(words)


def roughen(rng: random.Random, text: str, *, casual: bool = False) -> str:
    """Typos, dropped apostrophes and lower case, in moderation."""
    if rng.random() < 0.12:
        for _ in range(rng.choice((1, 1, 1, 2))):
            text = typo(rng, text)
    if casual and rng.random() < 0.25:
        text = text.lower()
    if rng.random() < 0.08:
        text = text.replace("'", "")
    return text


def body(
    rng: random.Random,
    theme: str,
    sentiment: str,
    *,
    surge: bool = False,
    n_main: int = 1,
    fixed: dict[str, str] | None = None,
) -> str:
    """The theme sentences of one document: ``n_main`` in the document's sentiment."""
    t = THEMES[theme]
    key = {"negative": "neg", "positive": "pos", "neutral": "neu"}[sentiment]
    parts = []
    for k in range(n_main):
        if surge and k == 0:
            s = sentence(rng, t["surge"], fixed)  # type: ignore[arg-type]
            if sentiment == "neutral":  # a mixed complaint from a customer who is not unhappy
                s = (
                    rng.choice(
                        [
                            "Normally love shopping here but ",
                            "The shop is great but ",
                            "Usually no complaints, but ",
                        ]
                    )
                    + s[0].lower()
                    + s[1:]
                )
        else:
            s = sentence(rng, t[key], fixed)  # type: ignore[arg-type]
        if rng.random() < 0.18:
            h = rng.choice(HEDGES)
            keep = s.startswith(("I ", "I'")) or s[1:2].isupper()
            s = h + (s if keep else s[0].lower() + s[1:])
        parts.append(s)
    return " ".join(parts)
