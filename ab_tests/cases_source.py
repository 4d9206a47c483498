"""Source of the bundled development case set: `python ab_tests/cases_source.py` writes
ab_tests/cases.jsonl. Each case is (query, needs) or (query, needs, history); `needs` lists
the tool modules a careful human would say the task requires (capabilities only: the
library adds what they in turn require, such as toolkit).

The held-out set (heldout.jsonl) is written directly as JSONL and is never edited to suit
the triggers; see README.md.
"""

from __future__ import annotations

import json
from pathlib import Path

WEB, BROWSER, FILES, CODE, DATA = "web_search", "browser", "file_operations", "code_development", "data_processing"
WRITE, FLOW, IMAGE, DEPLOY, COMMS = "content_creation", "workflow", "image_generation", "deployment", "communication"

CASES: dict[str, list[tuple]] = {
    "web_search": [
        ("what's the weather going to be like in Lisbon this weekend?", [WEB]),
        ("who won the champions league final last season", [WEB]),
        ("Is the new iPhone out yet and how much does it cost in Germany?", [WEB]),
        ("find me three recent studies on intermittent fasting and summarise what they found", [WEB]),
        ("what's the current USD to JPY exchange rate", [WEB]),
        ("has anything happened with the OpenSSL vulnerability since Tuesday?", [WEB]),
        ("can you check whether the Louvre is open on Mondays", [WEB]),
        ("what are people saying about the latest Rust release", [WEB]),
        ("Look up the population of Nigeria according to the most recent census estimate", [WEB]),
        ("compare the prices of the Kindle Paperwhite and the Kobo Clara right now", [WEB]),
        ("who is the CEO of Siemens these days", [WEB]),
        ("is there a tube strike in London tomorrow", [WEB]),
        ("what does the research say about standing desks and back pain? cite sources please", [WEB]),
        ("when does the next SpaceX Starship launch happen", [WEB]),
        ("fact-check this claim: 'Finland has more saunas than cars'", [WEB]),
        ("what were Nvidia's quarterly earnings", [WEB]),
        ("best rated budget espresso machines this year", [WEB]),
    ],
    "browser": [
        ("go to booking.com and find a double room in Porto for 12-14 June under 120 euros a night", [BROWSER]),
        ("log into my Shopify admin and tell me how many orders are unfulfilled", [BROWSER]),
        ("open https://example.org/pricing and take a screenshot of the enterprise tier", [BROWSER]),
        ("fill out the contact form on acme-supplies.com asking for a bulk quote, but don't submit it yet", [BROWSER]),
        ("scrape the job titles and locations from the careers page of stripe.com", [BROWSER]),
        ("click through the checkout on my test store and tell me where it breaks", [BROWSER]),
        ("can you navigate to the city council website and find the form for a parking permit", [BROWSER]),
        ("add the blue XL hoodie to my cart on the merch site and stop before payment", [BROWSER]),
        ("sign in to the supplier portal with the credentials I gave you and download last month's invoices", [BROWSER, FILES]),
        ("check what our homepage looks like on a mobile-sized viewport", [BROWSER]),
        ("go through the first five pages of results on the used car listing site and collect the prices of 2019 Golfs", [BROWSER]),
        ("reserve a table for four at 8pm on Friday using the restaurant's online booking widget", [BROWSER]),
        ("the dashboard at grafana.internal.example shows a red panel, open it and tell me what it says", [BROWSER]),
        ("extract all the product names and prices from this url: https://shop.example.com/sale", [BROWSER]),
        ("find the unsubscribe setting in my account on that newsletter site and turn it off", [BROWSER]),
    ],
    "file_operations": [
        ("I uploaded a PDF contract, can you pull out the termination clauses", [FILES]),
        ("rename all the photos in the uploads folder to include the date they were taken", [FILES]),
        ("convert the attached docx to PDF", [FILES]),
        ("unzip the archive I sent and list what's inside", [FILES]),
        ("merge these three PDFs into one, in the order invoice, receipt, statement", [FILES]),
        ("read the README in the folder I uploaded and tell me how to install the tool", [FILES]),
        ("there's a scanned letter in my uploads, can you OCR it into text", [FILES]),
        ("move every .log file older than a week into an archive folder and zip it", [FILES]),
        ("split the big PDF into one file per chapter", [FILES]),
        ("turn this markdown file into a nicely formatted Word document", [FILES]),
        ("delete the duplicate images in the folder, keep the highest resolution copy", [FILES]),
        ("what's in the JSON config I attached? is anything obviously misconfigured", [FILES]),
        ("extract the tables from pages 4 to 7 of the annual report PDF", [FILES]),
        ("save our conversation notes as a text file I can download", [FILES]),
        ("organise my uploads into folders by file type", [FILES]),
    ],
    "code_development": [
        ("my Python script crashes with KeyError: 'user_id', here's the traceback", [CODE]),
        ("write a function that validates IBAN numbers in TypeScript", [CODE]),
        ("refactor this class so it doesn't use global state", [CODE]),
        ("why does my React component re-render every time I type in the input?", [CODE]),
        ("add unit tests for the parse_date helper in my repo", [CODE]),
        ("write a bash script that backs up my home directory to an external drive", [CODE]),
        ("explain what this regex does: ^(?=.*\\d)(?=.*[a-z]).{8,}$", [CODE]),
        ("implement binary search in Go and show me how to test it", [CODE]),
        ("I'm getting a merge conflict in package.json, how do I resolve it", [CODE]),
        ("convert this Python 2 script to Python 3", [CODE]),
        ("my SQL query is slow, it joins orders and customers on email, how do I speed it up", [CODE, DATA]),
        ("set up a FastAPI endpoint that accepts a file upload and returns its checksum", [CODE]),
        ("review this pull request diff for bugs", [CODE]),
        ("the npm install fails with ERESOLVE, what do I do", [CODE]),
        ("write a small CLI in Rust that counts words in a file", [CODE]),
        ("why am I getting 'undefined is not a function' on line 42", [CODE]),
        ("make this function async and handle timeouts properly", [CODE]),
    ],
    "data_processing": [
        ("plot sales.csv by month", [DATA]),
        ("what's the average order value per region in the spreadsheet I uploaded", [DATA]),
        ("clean up the customer list: remove duplicates and fix the phone number formats", [DATA]),
        ("make a bar chart of signups per week from this export", [DATA]),
        ("is there a correlation between ad spend and revenue in this data", [DATA]),
        ("build a pivot table of expenses by category and month", [DATA]),
        ("forecast next quarter's demand from the last three years of orders", [DATA]),
        ("which products have the highest return rate? the data is in returns.xlsx", [DATA]),
        ("calculate the median salary by department and show it as a chart", [DATA]),
        ("find the outliers in the sensor readings", [DATA]),
        ("compute year-over-year growth for each store", [DATA]),
        ("turn these survey results into percentages per answer", [DATA]),
        ("group the transactions by merchant and total them", [DATA]),
        ("make a heatmap of website traffic by hour and weekday", [DATA]),
        ("what percentage of tickets were resolved within 24 hours last month", [DATA]),
        ("run a quick regression of price on square meters and number of rooms", [DATA]),
    ],
    "content_creation": [
        ("write a cover letter for a junior data analyst position", [WRITE]),
        ("draft a blog post about why small teams should write less documentation, about 800 words", [WRITE]),
        ("proofread my essay and fix the grammar without changing my style", [WRITE]),
        ("make a 10-slide presentation introducing our new onboarding process", [WRITE]),
        ("rewrite this paragraph so it sounds less corporate", [WRITE]),
        ("give me five catchy taglines for a vegan bakery", [WRITE]),
        ("write a product description for a handmade leather wallet", [WRITE]),
        ("translate my CV into French", [WRITE]),
        ("summarize the key points of this article in three bullets", [WRITE]),
        ("write a short speech for my sister's wedding, funny but not embarrassing", [WRITE]),
        ("outline a white paper on zero-trust security for mid-sized companies", [WRITE]),
        ("create a one-page brochure for our yoga studio", [WRITE]),
        ("write a press release announcing our Series A", [WRITE]),
        ("shorten this text to under 100 words", [WRITE]),
        ("write a bedtime story about a dragon who is afraid of the dark", [WRITE]),
    ],
    "workflow": [
        ("every Monday morning, send me a summary of last week's support tickets", [FLOW, COMMS]),
        ("set up a reminder to renew my passport in March", [FLOW]),
        ("automate resizing every image I upload to 1200px wide", [FLOW, FILES]),
        ("create a daily job that checks our website is up and tells me if it isn't", [FLOW]),
        ("make a checklist for moving to a new apartment", [FLOW]),
        ("when a new row appears in the leads sheet, post it to our Slack channel", [FLOW, COMMS]),
        ("give me a project plan with milestones for launching the new website in 8 weeks", [FLOW]),
        ("schedule a weekly report of our top 10 products by revenue", [FLOW, DATA]),
        ("what scheduled tasks do I have running right now", [FLOW]),
        ("cancel the hourly price check you set up yesterday", [FLOW]),
        ("process all 300 invoices in the folder and extract vendor, date and total into one sheet", [FLOW, FILES, DATA]),
        ("connect the webhook from our form tool so each submission lands in a spreadsheet", [FLOW]),
        ("sync my calendar events into a to-do list every evening", [FLOW]),
        ("break this project into tasks and order them by dependency", [FLOW]),
    ],
    "image_generation": [
        ("make a logo for my coffee shop called Bean There", [IMAGE]),
        ("generate an image of a fox reading a newspaper in a Paris cafe", [IMAGE]),
        ("design a banner for our summer sale, 1500x500", [IMAGE]),
        ("remove the background from the product photo I uploaded", [IMAGE]),
        ("draw a simple icon of a paper plane for our app", [IMAGE]),
        ("create a poster for a jazz night on Friday the 14th", [IMAGE]),
        ("I need a YouTube thumbnail for a video about budgeting", [IMAGE]),
        ("illustrate a cozy reading nook in watercolor style", [IMAGE]),
        ("make an avatar of a robot with a friendly face", [IMAGE]),
        ("create an infographic showing the water cycle", [IMAGE]),
        ("give me a mockup of our app on an iPhone screen", [IMAGE]),
        ("turn this photo into a pencil sketch", [IMAGE]),
    ],
    "deployment": [
        ("deploy this static site so I can share a link with my client", [DEPLOY]),
        ("put my Flask app online somewhere my team can try it", [DEPLOY]),
        ("write a Dockerfile for this Node service", [DEPLOY]),
        ("how do I point my domain at the Netlify site", [DEPLOY]),
        ("set up GitHub Actions to run tests and deploy to staging on every push to main", [DEPLOY]),
        ("our production server returns 502 since the last release, help me figure out why", [DEPLOY]),
        ("publish the portfolio we built yesterday", [DEPLOY]),
        ("create a Kubernetes deployment and service for this container", [DEPLOY]),
        ("get an SSL certificate working for api.mysite.com", [DEPLOY]),
        ("host this Streamlit dashboard so the sales team can open it", [DEPLOY]),
        ("write Terraform for an S3 bucket with versioning on", [DEPLOY]),
        ("roll back the last deployment, it broke the login page", [DEPLOY]),
        ("make the preview of this landing page public", [DEPLOY]),
    ],
    "communication": [
        ("draft an email to my landlord about the broken heating", [COMMS]),
        ("reply to Sarah's message and say I can do Thursday instead", [COMMS]),
        ("send the meeting notes to everyone who attended", [COMMS]),
        ("schedule a 30 minute call with Tom next week", [COMMS]),
        ("write a polite follow-up to the recruiter who hasn't answered in two weeks", [COMMS]),
        ("summarize my unread emails and tell me which need a reply today", [COMMS]),
        ("invite the design team to a review on Wednesday at 3pm", [COMMS]),
        ("message the team on Slack that the release is delayed until Monday", [COMMS]),
        ("let my manager know I'll be out sick today", [COMMS]),
        ("forward the invoice email to accounting with a short note", [COMMS]),
        ("write a text to my neighbour asking them to water the plants while I'm away", [COMMS]),
        ("decline the conference invitation politely", [COMMS]),
    ],
    "multi_tool": [
        ("research the top 5 competitors of Notion and put the findings into a comparison slide deck", [WEB, WRITE]),
        ("analyse the sales spreadsheet, make charts, and write a two-page report for the board", [DATA, WRITE]),
        ("scrape the product prices from our competitor's site every morning and alert me if they drop", [BROWSER, FLOW]),
        ("build a small website for my bakery and put it online", [CODE, DEPLOY]),
        ("read the PDFs in my uploads, extract the invoice totals and chart spending by month", [FILES, DATA]),
        ("look up the latest inflation figures and email a summary to my team", [WEB, COMMS]),
        ("write a Python script that pulls data from our API, then schedule it to run nightly", [CODE, FLOW]),
        ("design a logo and then create a landing page that uses it", [IMAGE, CODE]),
        ("find flights to Tokyo in April on the airline website and draft an email to my boss with the options", [BROWSER, COMMS]),
        ("clean the CSV, build a dashboard, and deploy it so the team can see it", [DATA, DEPLOY]),
        ("translate the attached brochure into Spanish and make it a PDF", [FILES, WRITE]),
        ("check our website for broken links and write up the results", [BROWSER, WRITE]),
        ("fetch today's exchange rates, update the pricing sheet and send it to sales", [WEB, DATA, COMMS]),
        ("make social media images for the launch and write the captions", [IMAGE, WRITE]),
        ("analyse our app's error logs and fix the most frequent bug", [FILES, CODE]),
        ("search for grants for small climate startups and put them in a spreadsheet with deadlines", [WEB, DATA]),
        ("set up a weekly automation that pulls analytics data, charts it and emails the chart", [FLOW, DATA, COMMS]),
        ("write the documentation for our API and publish it as a static site", [WRITE, DEPLOY]),
        ("turn the uploaded meeting transcript into minutes and send them to the attendees", [FILES, WRITE, COMMS]),
        ("compare the specs of three laptops online and make a chart of price vs battery life", [WEB, DATA]),
    ],
    "small_talk": [
        ("hi!", []),
        ("thanks, that's perfect", []),
        ("good morning, how are you today?", []),
        ("you're awesome", []),
        ("lol", []),
        ("ok", []),
        ("never mind", []),
        ("sorry, I was away for a bit", []),
        ("that's not what I meant but no worries", []),
        ("can you be a bit more concise from now on?", []),
        ("what can you do?", []),
        ("bye for now", []),
        ("haha that's funny", []),
        ("I'm having a rough day", []),
        ("great job on that one", []),
        ("who made you?", []),
        ("hmm let me think about it", []),
        ("cheers mate", []),
    ],
    "general_knowledge": [
        ("what's the difference between a virus and a bacterium", []),
        ("explain the Monty Hall problem simply", []),
        ("why is the sky blue?", []),
        ("how many bones are in the human body", []),
        ("what does 'ceteris paribus' mean", []),
        ("who wrote One Hundred Years of Solitude", []),
        ("explain compound interest like I'm 12", []),
        ("what's a good way to learn to touch type", []),
        ("how do vaccines train the immune system", []),
        ("what's the capital of Mongolia", []),
        ("give me a quick overview of the causes of the First World War", []),
        ("is a tomato a fruit or a vegetable", []),
        ("what's the plural of octopus", []),
        ("how long should I boil an egg for a runny yolk", []),
        ("what's the difference between affect and effect", []),
        ("recommend some classic sci-fi novels", []),
        ("how does a heat pump work", []),
        ("what is the speed of light in km per second", []),
    ],
    "follow_up": [
        ("now make it a line chart instead", [DATA], ["plot the monthly revenue from revenue.csv as bars"]),
        ("do the same for 2023", [DATA], ["what was our total revenue per quarter in 2024? the file is attached"]),
        ("ok send it", [COMMS], ["draft an email to the client saying the delivery is delayed"]),
        ("make it shorter and friendlier", [COMMS], ["write an email to my team about the new holiday policy"]),
        ("and add error handling", [CODE], ["write a python function that downloads a file from a URL"]),
        ("now deploy it", [DEPLOY], ["I built a small portfolio site with Vite, the build is in dist/"]),
        ("what about in Madrid?", [WEB], ["what's the weather like in Barcelona tomorrow"]),
        ("make the colours warmer", [IMAGE], ["generate an image of a mountain lake at sunrise"]),
        ("run it every Friday instead", [FLOW], ["schedule a daily backup of the reports folder"]),
        ("try the next page too", [BROWSER], ["go to the auction site and list the vintage cameras under 100 euros"]),
        ("can you also split it by region", [DATA], ["chart the number of new customers per month from customers.xlsx"]),
        ("translate it into German as well", [WRITE], ["write a product announcement for our new app feature"]),
        ("it still fails with the same error", [CODE], ["my Django migration fails with 'relation already exists'"]),
        ("put them in a zip", [FILES], ["convert all the Word documents in my uploads to PDF"]),
        ("and what did critics say?", [WEB], ["search for the box office numbers of the new Dune film"]),
        ("use the second option", [IMAGE], ["make three logo concepts for a cycling club"]),
        ("add a slide about pricing", [WRITE], ["create a pitch deck for our meal-kit startup"]),
        ("perfect, now post it to the team channel", [COMMS], ["summarise this week's changelog in five bullets"]),
        ("ok now chart it", [DATA], ["load q3.xlsx and total the sales per product"]),
        ("also do the PDFs in the other folder", [FILES], ["extract the text from the PDFs in uploads/contracts"]),
    ],
    "paraphrase": [
        ("make it so this runs by itself each morning", [FLOW], ["I wrote a script that pulls yesterday's orders"]),
        ("put something together I can show the board on Thursday", [WRITE]),
        ("what's going on in the world today?", [WEB]),
        ("can you get me what this spreadsheet is telling me about our customers", [DATA]),
        ("help me tell my landlord the heating is broken", [COMMS]),
        ("I need the numbers from these receipts added up", [DATA]),
        ("my program keeps falling over when the input is empty", [CODE]),
        ("get my site in front of people", [DEPLOY]),
        ("what would this room look like painted sage green? show me", [IMAGE]),
        ("nudge me about the dentist appointment two days before", [FLOW]),
        ("find out how much a one-way ticket to Oslo goes for in May", [WEB]),
        ("tidy up my uploads, it's a mess", [FILES]),
        ("jot down a thank-you note for my mentor", [WRITE]),
        ("how did the markets do yesterday", [WEB]),
        ("I want a picture of my dog as a Renaissance painting", [IMAGE]),
        ("ping Alex that I'm running ten minutes late", [COMMS]),
        ("crunch these survey answers and tell me what stands out", [DATA]),
        ("get this thing containerised", [DEPLOY]),
        ("what's the damage on a used Tesla Model 3 these days", [WEB]),
        ("make my bio sound more professional", [WRITE]),
        ("keep an eye on this product page and tell me when it's back in stock", [BROWSER, FLOW]),
        ("the thing I made yesterday should be reachable by my colleagues", [DEPLOY]),
        ("pull the bits about liability out of this contract", [FILES]),
        ("what's trending on hacker news", [WEB]),
    ],
    "non_english": [
        ("¿puedes hacer un gráfico de las ventas por mes con el archivo que subí?", [DATA]),
        ("busca las últimas noticias sobre la huelga de transporte en Madrid", [WEB]),
        ("écris un courriel à mon propriétaire pour signaler que le chauffage est en panne", [COMMS]),
        ("rédige un article de blog sur le télétravail", [WRITE]),
        ("schreibe eine Python-Funktion, die E-Mail-Adressen validiert", [CODE]),
        ("kannst du die Tabelle nach Umsatz pro Region auswerten?", [DATA]),
        ("traduci questo documento in inglese", [WRITE]),
        ("fammi un logo per la mia pizzeria", [IMAGE]),
        ("publique o site estático que criámos ontem", [DEPLOY]),
        ("procure o preço atual do bitcoin", [WEB]),
        ("這個 CSV 檔案可以幫我畫成圖表嗎", [DATA]),
        ("明日の東京の天気を調べて", [WEB]),
        ("напиши письмо начальнику, что я заболел", [COMMS]),
        ("zet elke maandag een herinnering voor de teamvergadering", [FLOW]),
        ("¿qué tal estás?", []),
        ("merci beaucoup, c'est parfait", []),
        ("erstelle eine Präsentation über unsere Quartalsergebnisse", [WRITE]),
        ("descarga las facturas del portal del proveedor", [BROWSER]),
        ("convertis ce fichier Word en PDF", [FILES]),
        ("corrige el error en mi código de JavaScript", [CODE]),
    ],
    "typos_shouting": [
        ("plz make a chrat of the sales by mnth", [DATA]),
        ("serch the web for teh latest iphone price", [WEB]),
        ("WHY DOES MY SCRIPT KEEP CRASHING", [CODE]),
        ("SEND THE EMAIL TO THE CLIENT NOW", [COMMS]),
        ("deploi the app pls", [DEPLOY]),
        ("can u write a blgo post abt remote work", [WRITE]),
        ("DRAW ME A CAT", [IMAGE]),
        ("scedule a remnder for tmrw 9am", [FLOW]),
        ("convrt the pdf to wrod", [FILES]),
        ("OPEN THE WEBSITE AND CHECK THE PRICES", [BROWSER]),
        ("anlyze this spreadhseet for me", [DATA]),
        ("wat's the wether in rome", [WEB]),
        ("fix my pyhton code its broken", [CODE]),
        ("EMAIL BOB THAT THE MEETING IS CANCELLED!!!", [COMMS]),
    ],
    "short": [
        ("chart?", [DATA]),
        ("deploy", [DEPLOY]),
        ("weather paris", [WEB]),
        ("logo pls", [IMAGE]),
        ("email boss", [COMMS]),
        ("debug", [CODE]),
        ("pdf to word", [FILES]),
        ("slides", [WRITE]),
        ("remind me", [FLOW]),
        ("screenshot google.com", [BROWSER]),
    ],
    "long": [
        ("Hi, so here's my situation. I run a small online shop selling ceramics and I have been keeping track of all the orders "
         "in a spreadsheet for the last two years. Every month I export it as a CSV. What I'd like is to understand which products "
         "sell best in which season, whether my prices changes last spring had any effect, and which customers come back. Could you "
         "dig into the export I just uploaded and show me the main patterns with a few clear charts?", [DATA]),
        ("I've been trying to get this to work all afternoon and I'm losing my mind. The backend is a Node/Express app talking to "
         "Postgres. Locally everything works. In the container, every request to /api/orders hangs for 30 seconds and then fails "
         "with ECONNREFUSED 127.0.0.1:5432. I've attached the docker-compose file and the connection code. What am I doing wrong "
         "and how do I fix it?", [CODE, DEPLOY]),
        ("We're preparing our annual report and I need a section on our sustainability work. I'll paste our internal notes below. "
         "They are messy and repetitive, with numbers scattered everywhere. Please turn them into two well-structured pages in a "
         "confident but not boastful tone, with a short summary at the top, and keep every figure exactly as it is in the notes. "
         "Notes: energy use down 14% vs last year, solar panels on the Leeds warehouse, 62% of packaging recycled...", [WRITE]),
        ("My father is turning seventy next month and the family wants to surprise him with a weekend trip to the coast. We are "
         "eight people, two of whom use wheelchairs, and we'd like somewhere quiet with good food within three hours of Lyon by "
         "train. Could you look around for places that fit, check that they are actually accessible, and give me a shortlist "
         "with prices and how to book?", [WEB]),
        ("Every week I spend my Friday afternoon doing the same thing: I download the sales export from our shop system, copy the "
         "numbers into a template, make three charts, paste them into an email and send it to the four regional managers. It "
         "takes two hours and I make mistakes. Is there a way you could take this off my plate completely?", [FLOW, DATA, COMMS]),
        ("I wrote a fantasy short story for a competition and the limit is 3,000 words but mine is 4,200. I don't want to lose the "
         "ending or the scene in the lighthouse, which are the heart of it, but the middle section drags and the opening takes too "
         "long to get going. Can you cut it down to the limit while keeping my voice? The full text is attached.", [WRITE, FILES]),
        ("Our marketing team needs visuals for the autumn campaign: a hero image for the website showing people walking through "
         "a park with golden leaves, three square variations for Instagram, and a banner for the newsletter header. The brand "
         "colours are deep green and cream and the style should feel warm, hand-made, not glossy stock photography.", [IMAGE]),
        ("I have a folder of about two hundred scanned receipts from business trips, mostly JPGs but some PDFs, a few of them "
         "rotated or blurry. My accountant wants a spreadsheet with date, vendor, amount, currency and category for each one, "
         "plus totals per trip. Can you go through them all and build that for me, and flag any you couldn't read?", [FILES, DATA]),
        ("Before I sign the lease on the new office I want to be sure about a few things: whether the area has had flooding in "
         "the past ten years, what the typical commercial rent per square metre is nearby, and whether there are plans for "
         "construction on the adjacent plot. The address is Rua das Flores 120, Porto.", [WEB]),
        ("Could you help me write a message to our whole team explaining the switch to a four-day week? I want it to be clear "
         "about what changes (hours, coverage on Fridays, how holidays are counted) and what doesn't, acknowledge that some "
         "people are nervous about it, and invite questions at the all-hands next Tuesday. Then send it from my account once I "
         "approve it.", [COMMS, WRITE]),
    ],
}


def write(path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for category, cases in CASES.items():
            for number, case in enumerate(cases, start=1):
                query, needs, *rest = case
                record = {"id": f"{category}-{number:03d}", "query": query, "category": category, "needs": needs}
                if rest:
                    record["history"] = rest[0]
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
    return count


if __name__ == "__main__":
    target = Path(__file__).resolve().parent / "cases.jsonl"
    print(f"wrote {write(target)} cases to {target}")
