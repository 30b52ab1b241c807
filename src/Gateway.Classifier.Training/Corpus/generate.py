#!/usr/bin/env python3
"""Writes the labelled category corpus (categories.jsonl) from the hand-written material below.

Every prompt here was written for this corpus: a template is a phrasing pattern whose slots are
filled from hand-written lists, a literal is a prompt written out whole. The split is by
template (and by literal), never by row, so the held-out set measures how the classifier handles
phrasings it never saw, not how well it remembers a template.

    python3 generate.py > categories.jsonl        # deterministic: same file every run
"""
import hashlib
import json
import random
import re
import sys

SEED = 20261130
TARGET_PER_CATEGORY = 520  # rows per category: templates expanded evenly, literals once

LANGS = ["Python", "C#", "JavaScript", "TypeScript", "Go", "Rust", "Java", "Kotlin", "Ruby", "PHP",
         "SQL", "Bash", "C++", "Swift", "Scala", "R", "Haskell", "Elixir", "Lua", "PowerShell"]
CODE_TASKS = ["parse a CSV file and sum the third column", "reverse a linked list",
              "debounce a function", "read a JSON config file with defaults",
              "validate an email address", "retry an HTTP call with exponential backoff",
              "find duplicate files in a directory by hash", "implement an LRU cache",
              "merge two sorted arrays", "stream a large file line by line",
              "paginate results from a REST API", "compute a moving average over a list",
              "detect a cycle in a directed graph", "rate limit requests per user with a token bucket",
              "convert a timestamp between time zones", "flatten a nested dictionary",
              "upload a file to S3 with multipart upload", "hash passwords with bcrypt",
              "run tasks concurrently with a limit of 4 at a time", "serialize an object to YAML",
              "implement binary search", "tokenize an arithmetic expression",
              "watch a folder for new files", "send an email with an attachment",
              "build a trie for autocomplete", "deduplicate rows in a table keeping the newest",
              "write a unit test for a date formatter", "memoize a recursive function",
              "read environment variables into a typed config object",
              "schedule a job every night at 2am", "resize images in a folder to 800px wide",
              "implement a thread-safe counter", "compare two JSON documents and list differences"]
BUGS = ["it throws a NullReferenceException on the second call", "the loop never terminates",
        "it returns the wrong total when the list is empty", "it is off by one at the end",
        "it deadlocks under load", "the test passes locally but fails in CI",
        "memory keeps growing until the process is killed", "it prints undefined instead of the name",
        "the query returns duplicate rows", "it segfaults when the input is long",
        "the regex matches too much", "dates come out one day early",
        "the async call never completes", "it works in Chrome but not in Safari",
        "the build fails with 'cannot find symbol'", "I get 'index out of range'"]
SNIPPETS = [
    "```python\ndef total(items):\n    s = 0\n    for i in range(len(items) + 1):\n        s += items[i]\n    return s\n```",
    "```js\nasync function load(ids) {\n  const out = [];\n  ids.forEach(async id => out.push(await fetch('/api/' + id)));\n  return out;\n}\n```",
    "```csharp\npublic int Count(List<string> xs) {\n    int n = 0;\n    foreach (var x in xs) if (x.Length > 3) n++;\n    return n;\n}\n```",
    "```sql\nSELECT c.name, COUNT(o.id)\nFROM customers c LEFT JOIN orders o ON o.customer_id = c.id\nWHERE o.created_at > '2024-01-01'\nGROUP BY c.name;\n```",
    "```go\nfor i := 0; i < len(xs); i++ {\n    go func() { fmt.Println(xs[i]) }()\n}\n```",
    "```rust\nfn first_word(s: &String) -> &str {\n    let bytes = s.as_bytes();\n    for (i, &b) in bytes.iter().enumerate() { if b == b' ' { return &s[0..i]; } }\n    &s[..]\n}\n```",
    "```bash\nfor f in $(ls *.txt); do\n  mv $f ${f%.txt}.md\ndone\n```",
    "```java\nMap<String, Integer> m = new HashMap<>();\nfor (String w : words) m.put(w, m.get(w) + 1);\n```",
    "```python\nimport requests\nr = requests.get(url)\ndata = r.json()['items']\nprint(len(data))\n```",
    "```ts\nfunction sum(a: number[], b?: number) { return a.reduce((x, y) => x + y) + b; }\n```",
    "```yaml\nservices:\n  web:\n    image: nginx\n    ports:\n      - 80:80\n    depends_on: db\n```",
    "def fib(n): return fib(n-1) + fib(n-2)",
    "SELECT * FROM users WHERE name = '\" + name + \"'",
    "x = [i for i in range(10) if i % 2 == 0]\nprint(x[5])",
]
TOPICS = ["photosynthesis", "the French Revolution", "black holes", "the stock market", "inflation",
          "the Roman Empire", "vaccines", "climate change", "the Great Barrier Reef", "volcanoes",
          "the printing press", "quantum computing", "the Silk Road", "antibiotics", "the Moon landing",
          "the human heart", "plate tectonics", "the Cold War", "the Renaissance", "electric cars",
          "the water cycle", "blockchain", "the Amazon rainforest", "the Industrial Revolution",
          "DNA", "the Olympic Games", "jazz", "the Ottoman Empire", "honeybees", "solar panels"]
PLACES = ["Japan", "Brazil", "Kenya", "Norway", "Canada", "Peru", "Vietnam", "Egypt", "Portugal",
          "New Zealand", "Mongolia", "Chile", "Iceland", "India", "Morocco", "Poland", "Australia"]
PEOPLE = ["Marie Curie", "Ada Lovelace", "Nelson Mandela", "Leonardo da Vinci", "Alan Turing",
          "Frida Kahlo", "Isaac Newton", "Cleopatra", "Genghis Khan", "Rosalind Franklin",
          "Mahatma Gandhi", "Nikola Tesla", "Jane Austen", "Galileo Galilei", "Grace Hopper"]
ORG_TOPICS = ["parental leave policy", "expense reimbursement limit", "VPN setup", "on-call rotation",
              "holiday calendar", "security training deadline", "travel booking process",
              "laptop refresh policy", "401k match", "office hours in Berlin", "code review policy",
              "data retention policy", "incident severity levels", "remote work stipend",
              "procurement approval threshold", "performance review cycle"]
PRODUCTS = ["a reusable water bottle", "a budgeting app", "noise-cancelling headphones",
            "a plant-based protein bar", "a project management tool", "an electric bike",
            "a meditation app", "a standing desk", "organic coffee beans", "a smart thermostat",
            "a language-learning app", "hiking boots", "a password manager", "a cat food subscription",
            "a cloud backup service", "handmade ceramic mugs"]
AUDIENCES = ["busy parents", "college students", "small business owners", "retirees", "developers",
             "nurses", "first-time home buyers", "gamers", "runners", "remote workers"]
THEMES = ["a lighthouse keeper who finds a message in a bottle", "a robot learning to paint",
          "two rivals stuck in an elevator", "a city where it never stops raining",
          "the last bookstore on Mars", "a dragon afraid of heights", "a detective who cannot lie",
          "a grandmother's secret recipe", "a time traveller stuck in 1994", "a haunted vending machine",
          "a friendship between a crow and a child", "a chef who loses their sense of taste",
          "the first day at a new school", "a ship's cat on a long voyage", "an AI that writes letters to its creator"]
FORMS = ["short story", "poem", "haiku", "limerick", "sonnet", "song", "flash fiction piece",
         "bedtime story", "scene for a play", "diary entry"]
TONES = ["funny", "melancholic", "hopeful", "dark", "whimsical", "formal", "playful", "suspenseful",
         "warm", "sarcastic"]
NAMES = ["Alice", "Bob", "Priya", "Chen", "Maria", "Tom", "Fatima", "Lukas", "Aiko", "Omar", "Sofia", "Kwame"]

DOCS = [
    "Meeting notes, 12 March. Attendees: Dana (PM), Raj (eng), Lee (design). Decisions: launch moves to April 3 because the payment integration failed QA twice. Raj owns the fix, due March 20. Lee will redo the onboarding screens after user testing showed 40% drop-off at step 2. Open question: whether to keep the free tier. Next meeting March 19.",
    "Dear support team, I ordered a blue size M jacket (order #48213) on 2 May and received a black size L. I have attached photos. I would like an exchange, not a refund, and I need it before 20 May because I am travelling. My phone number is 555-0142. Thanks, Karen Ortiz",
    "Q3 results: revenue grew 14% year over year to $48.2M, driven by enterprise subscriptions (+22%). Gross margin fell from 71% to 68% due to higher cloud costs. Operating expenses rose 9%. The company raised full-year guidance to $190-195M and announced a $20M buyback. Churn in the SMB segment increased slightly to 3.1% monthly.",
    "The patient is a 54-year-old male presenting with chest pain radiating to the left arm for 2 hours. History of hypertension and type 2 diabetes. BP 160/95, HR 102. ECG shows ST elevation in leads II, III and aVF. Troponin pending. Aspirin 325 mg given.",
    "Product review: I bought this blender three weeks ago. It crushes ice well and is easy to clean, but it is very loud and the lid cracked after ten uses. Customer service replaced the lid quickly. For the price ($89) it is okay, but I expected better build quality. 3/5.",
    "This Agreement is entered into on January 5, 2025 between Northwind Ltd (\"Supplier\") and Contoso GmbH (\"Customer\"). The Supplier shall deliver 5,000 units by March 31, 2025. Payment is due within 45 days of invoice. Either party may terminate with 60 days written notice. Liability is capped at the fees paid in the preceding 12 months.",
    "Server log excerpt:\n2025-06-01T10:02:11Z ERROR db pool exhausted (max=20)\n2025-06-01T10:02:12Z WARN request /api/orders took 8123ms\n2025-06-01T10:02:15Z ERROR upstream timeout payments-svc\n2025-06-01T10:03:01Z INFO autoscaler added 2 replicas\n2025-06-01T10:04:40Z INFO latency back to normal",
    "Hi all, quick update on the office move: we will be in the new building at 200 King St from Monday 14 July. Parking passes are available from reception. The old office closes on 11 July at 6pm, please take personal items home by then. IT will set up desks over the weekend. Questions to facilities@company.example.",
    "Abstract: We propose a method for compressing transformer language models by pruning attention heads based on their gradient sensitivity. On three benchmarks, our approach removes 40% of heads with less than 1% accuracy loss, and reduces inference latency by 23% on CPUs. We release code and pruned checkpoints.",
    "Candidate: Jordan Miles. Experience: 6 years backend engineering at two fintech startups, led migration from a monolith to services, strong in Go and PostgreSQL. Education: BSc Computer Science, University of Leeds. Notice period: 2 months. Salary expectation: 95k. Interview feedback: strong system design, weaker on frontend.",
    "Customer chat transcript: User: my internet keeps dropping every evening. Agent: have you restarted the router? User: yes twice, and replaced the cable. Agent: I see packet loss on your line after 7pm, I will book a technician for Thursday between 8 and 12.",
    "Recipe: Preheat oven to 200C. Toss 1kg potatoes, cut into wedges, with 3 tbsp olive oil, 1 tsp smoked paprika and salt. Roast for 35 minutes, turning once. Meanwhile mix 150g yogurt with garlic and lemon. Serve hot with the dip.",
    "Incident report: On 3 Feb at 14:05 UTC a config change disabled TLS on the edge load balancer for EU traffic. Error rates reached 35% for 22 minutes. The change was rolled back at 14:27. Root cause: missing validation in the deploy pipeline. Action items: add config linting, require two approvals for edge changes.",
    "Support ticket #5521: Since the 2.4 update the mobile app logs me out every few minutes. I am on Android 14, Pixel 7. Reinstalling did not help. This is blocking my team of 12 from approving timesheets. Please escalate.",
    "Job posting: Senior Data Analyst, hybrid (Manchester, 2 days in office). You will build dashboards in Looker, own weekly revenue reporting and partner with finance. Requirements: 4+ years SQL, experience with dbt, clear communication. Salary 55-65k plus bonus. Apply by 30 June.",
    "Press release: GreenGrid Energy today announced a partnership with the city of Porto to install 1,200 public EV chargers by 2027. The project costs EUR 38 million, half funded by an EU grant. Construction begins in October in the Boavista district.",
    "Minutes of the parents' association, 4 Nov: 23 attendees. Treasurer reported a balance of 4,310. The winter fair raised 1,870. Motion to fund new library books (600) passed unanimously. Concerns raised about traffic at pick-up time; Ms. Green will write to the council.",
    "Lease clause 12: The tenant shall not sublet the premises without prior written consent of the landlord, which shall not be unreasonably withheld. Any subletting without consent entitles the landlord to terminate with 30 days notice.",
    "Slack thread: @maya the deploy failed again on step 'migrate'. @tom I think the new column is NOT NULL without a default. @maya can you add a default and re-run? @tom done, deploy green at 16:42.",
    "Survey comments: 'Love the new dashboard but exports are slow.' 'Pricing is confusing.' 'Support answered in 5 minutes, amazing.' 'Please add SSO.' 'The mobile app crashes when I upload photos.'",
    "Flight itinerary: LH 903 Frankfurt (FRA) 07:25 to London Heathrow (LHR) 08:05, 12 March. Return LH 921 LHR 18:40 to FRA 21:15, 14 March. Booking reference QX7P2L. Passenger: Dr. Elena Rossi. Baggage: 1 x 23kg.",
    "Email from landlord: Hello, this is a reminder that the rent will increase from 1,250 to 1,320 per month starting 1 September, in line with the lease clause 7. The annual boiler inspection is scheduled for 18 August between 9 and 11. Please make sure someone is home. Regards, Mr. Patel",
]
EXTRACT_ASKS = ["Summarize this in three bullet points", "Give me a one-sentence summary of the following",
                "Extract every date and deadline from the text below", "List all the people mentioned and their roles",
                "Pull out the action items as a checklist", "Extract the key numbers into a table",
                "Classify the sentiment of this text as positive, negative or mixed",
                "Rewrite this in plain English for a 12-year-old", "Turn this into a JSON object with the important fields",
                "What are the main points of this text? Keep it short.", "TL;DR please",
                "Rewrite the following to sound more professional", "Translate this text into Spanish",
                "Identify the main complaint and what the writer wants", "Shorten this to under 50 words",
                "Extract names, phone numbers and order numbers from this", "Tag this text with up to five topic labels",
                "Which category does this belong to: billing, technical, sales or other?",
                "Convert this into a short status update for Slack", "Find any risks mentioned in the following"]

MATH_OBJS = ["apples", "tickets", "books", "marbles", "cupcakes", "stamps", "pencils", "boxes", "shirts", "seeds"]

CHAT_LITERALS = [
    "hi", "hello!", "hey there", "good morning :)", "thanks, that helped a lot", "thank you so much!",
    "how are you today?", "what's up?", "lol that's funny", "ok cool", "nice one", "bye for now",
    "can you hear me?", "are you a robot?", "who made you?", "what's your name?", "I'm bored, talk to me",
    "have a great weekend!", "sorry, my mistake", "never mind", "yes please", "no thanks",
    "good night", "I had a rough day", "you're awesome", "can we start over?", "hmm, let me think",
    "Bonjour, comment ça va ?", "Hola, ¿qué tal?", "Hallo, wie geht's?", "Ciao! Come stai?",
    "Olá, tudo bem?", "こんにちは", "Привет, как дела?", "你好", "Merci beaucoup !", "Danke schön",
    "just testing", "test", "ping", "are you still there?", "that's all for today, thanks",
    "great, see you tomorrow", "what can you do?", "how do I talk to you?", "do you like music?",
    "what's your favourite colour?", "I'm back", "happy friday!", "happy new year!",
    "Say hello to my friend Sam.", "Reply with just OK.", "Answer yes or no: are you ready?",
    "Repeat after me: the quick brown fox.", "Can you say that again?", "please continue",
    "go on", "Tell me a fun fact.", "Tell me a joke", "Give me a random number between 1 and 10",
    "Flip a coin for me", "What day comes after Tuesday?", "What's the opposite of hot?",
    "Spell 'necessary' for me", "Say good morning in Italian", "Count to five",
    "I just got promoted!", "my cat is sitting on my keyboard haha", "it's raining again here",
    "I can't sleep", "do you ever get tired?", "what should I call you?", "are you ChatGPT?",
    "that's not what I asked", "ok, thanks anyway", "cool cool", "wow", ":)", "👍", "?",
    "morning! coffee first, then work", "I'm learning to cook, wish me luck",
]
CHAT_TEMPLATES = [
    "{greet}, how's your day going?", "{greet}! I'm {name}. Nice to meet you.", "{greet}, are you there?",
    "{thanks}", "{thanks} {bye}", "{bye}", "I'm feeling {mood} today.", "Just wanted to say {thanks_short}.",
    "What's a good name for a {pet}?", "Can you cheer me up? I'm {mood}.", "Do you like {thing}?",
    "What's your opinion on {thing}, just casually?", "I just finished {activity}, feeling {mood}.",
    "Say '{phrase}' back to me.", "Tell me something nice.", "How do you say '{phrase}' in {natlang}?",
    "{greet} {name} here again", "haha {name} said you'd say that", "Remind me what we were talking about?",
    "Let's chat about {thing} for a bit.", "Guess what, I {news}!", "Wish me luck, I {news_future}.",
    "Is it weird that I like {thing}?", "Give me a compliment.", "What's a good way to start the day?",
    "Pick a number for me.", "Quick question: are you awake?", "ok {name}, thanks for the help earlier",
]
CHAT_SLOTS = {
    "greet": ["hi", "hello", "hey", "good morning", "good evening", "yo", "hiya", "Hello there", "Hey hey"],
    "thanks": ["thanks a lot!", "thank you, that was helpful.", "cheers, appreciate it", "many thanks",
               "thanks, you saved my day", "awesome, thank you"],
    "thanks_short": ["thanks", "thank you", "you're great", "I appreciate you"],
    "bye": ["bye!", "see you later", "talk soon", "have a nice day", "gotta go", "catch you later"],
    "name": NAMES, "mood": ["tired", "happy", "stressed", "excited", "a bit down", "great", "bored", "nervous"],
    "pet": ["cat", "dog", "goldfish", "parrot", "hamster", "turtle"],
    "thing": ["pizza", "rainy days", "cats", "summer", "old movies", "board games", "mornings", "jazz", "football"],
    "activity": ["a long run", "my exams", "a big project", "cleaning the house", "a 10k race", "a painting"],
    "phrase": ["good luck", "thank you", "see you soon", "happy birthday", "good night"],
    "natlang": ["French", "Spanish", "German", "Japanese", "Italian", "Portuguese"],
    "news": ["passed my driving test", "got a new puppy", "finished my thesis", "moved to a new flat", "started a new job"],
    "news_future": ["have an interview tomorrow", "am running a marathon on Sunday", "am presenting at work today"],
}

CODING_TEMPLATES = [
    "Write a {lang} function to {task}.", "How do I {task} in {lang}?", "Can you show me {lang} code that will {task}?",
    "I need a {lang} script to {task}. Please add comments.", "What's the idiomatic way to {task} in {lang}?",
    "Fix this code, {bug}:\n{snippet}", "Why does this fail? {bug}.\n{snippet}", "Explain what this code does:\n{snippet}",
    "Review this {lang} code and suggest improvements:\n{snippet}", "Refactor this to be more readable:\n{snippet}",
    "Convert this code to {lang}:\n{snippet}", "Add type hints and docstrings to this:\n{snippet}",
    "Write unit tests for a function that should {task}, in {lang}.", "My {lang} program {bug}. What could cause that?",
    "{lang}: {task} without using any external libraries.", "Give me a regex that matches {regex_target}.",
    "Write a SQL query that returns {sql_target}.", "How do I fix the error '{error}' in {lang}?",
    "What's the difference between {pair} in {lang}?", "Implement {algo} in {lang} and explain its complexity.",
    "Set up a {framework} endpoint that will {task}.", "Write a Dockerfile for a {lang} web app.",
    "How can I make this faster?\n{snippet}", "Is there a bug here?\n{snippet}",
    "Write a git command to {git_task}.", "Create a GitHub Actions workflow that {ci_task}.",
    "Translate this pseudo-code into {lang}: for each user, if active, send reminder, else archive.",
    "Generate a {lang} class for a {entity} with validation.", "Design a REST API for a {entity} service, with example routes.",
    "Write a bash one-liner to {shell_task}.", "What does '{error}' mean and how do I get rid of it?",
    "Optimize this SQL, it takes 30 seconds:\n{snippet}", "Help me debug: {bug} when I {task} in {lang}.",
]
CODING_SLOTS = {
    "lang": LANGS, "task": CODE_TASKS, "bug": BUGS, "snippet": SNIPPETS,
    "regex_target": ["UK postcodes", "ISO 8601 dates", "IPv4 addresses", "hex colour codes", "semantic version numbers", "US phone numbers"],
    "sql_target": ["the top 5 customers by revenue last month", "users who signed up but never ordered",
                   "the second highest salary per department", "daily active users for the last 30 days",
                   "duplicate emails in the accounts table", "a running total of sales by date"],
    "error": ["TypeError: 'NoneType' object is not subscriptable", "CS8602: Dereference of a possibly null reference",
              "undefined is not a function", "borrowed value does not live long enough", "ModuleNotFoundError: No module named 'numpy'",
              "java.lang.OutOfMemoryError: Java heap space", "fatal: refusing to merge unrelated histories",
              "CORS policy: No 'Access-Control-Allow-Origin' header", "segmentation fault (core dumped)", "ECONNREFUSED 127.0.0.1:5432"],
    "pair": ["a list and a tuple", "an interface and an abstract class", "let and const", "== and ===", "a struct and a class",
             "async and threads", "map and flatMap", "a process and a thread"],
    "algo": ["quicksort", "Dijkstra's algorithm", "a bloom filter", "union-find", "topological sort", "a min-heap", "KMP string search"],
    "framework": ["ASP.NET Core", "Express", "FastAPI", "Flask", "Spring Boot", "Django", "Gin"],
    "git_task": ["undo the last commit but keep my changes", "squash the last three commits", "delete a remote branch",
                 "find which commit introduced a bug", "rename a branch"],
    "ci_task": ["runs tests on every pull request", "builds a Docker image and pushes it on tag", "lints Python code", "caches npm dependencies"],
    "entity": ["library book", "customer order", "invoice", "hotel booking", "blog post", "support ticket"],
    "shell_task": ["count lines in all .py files", "find the 10 largest files", "replace foo with bar in every file",
                   "kill the process on port 3000", "list files changed today"],
}
CODING_LITERALS = [
    "why is my python venv not activating on windows", "what does `git rebase -i` do", "npm install fails with EACCES, help",
    "How do pointers work in C?", "explain async/await in javascript like I'm new to it", "difference between TCP and UDP sockets in code?",
    "write fizzbuzz in brainfuck", "best way to structure a react project?", "how to center a div",
    "Is it OK to catch Exception in C#?", "k8s pod stuck in CrashLoopBackOff, how to debug?",
    "Écris une fonction Python qui inverse une chaîne.", "¿Cómo leo un archivo JSON en JavaScript?",
    "Schreibe eine Java-Methode, die prüft, ob eine Zahl eine Primzahl ist.", "Python で CSV を読み込む方法は？",
    "Write a Terraform module for an S3 bucket with versioning.", "Convert this curl to python requests: curl -X POST -H 'Content-Type: application/json' -d '{\"a\":1}' https://api.example.com",
    "my docker container exits immediately, why?", "how do I write a makefile for a C project with two source files",
    "explain big-O of nested loops in code", "write a python decorator that times a function",
]

MATH_TEMPLATES = [
    "What is {a} times {b}?", "Calculate {a} + {b} * {c}.", "Solve for x: {c}x + {a} = {b}.", "What is {p}% of {big}?",
    "{name} has {a} {obj}. {name2} gives them {b} more and they lose {c}. How many {obj} does {name} have now?",
    "A train travels {a} km in {c} hours. What is its average speed?", "If a shirt costs ${big} and is {p}% off, what is the sale price?",
    "Find the derivative of {poly}.", "Integrate {poly} with respect to x.", "What is the square root of {sq}?",
    "Simplify ({a}x + {b})({c}x - {a}).", "Prove that the sum of two odd numbers is even.",
    "Prove that there are infinitely many primes.", "Is {big} a prime number? Show your work.",
    "Compute the determinant of [[{a}, {b}], [{c}, {a}]].", "What is the probability of rolling two sixes with two dice?",
    "A bag has {a} red and {b} blue balls. If I draw two without replacement, what is the probability both are red?",
    "Convert {big} from base 10 to binary.", "What's the compound interest on ${big} at {p}% per year for {c} years?",
    "Find the area of a circle with radius {c} cm.", "A rectangle is {a} m by {b} m. What are its area and perimeter?",
    "Solve the system: x + y = {a}, x - y = {c}.", "What is the limit of (1 + 1/n)^n as n goes to infinity?",
    "How many ways can {c} people sit in a row?", "Find the mean and median of {a}, {b}, {c}, {big}, {sq}.",
    "{name} earns ${big} a month and saves {p}% of it. How much does {name} save in a year?",
    "If {c} workers build a wall in {a} days, how long do {b} workers take?", "Evaluate the sum of the first {a} positive integers.",
    "What's {a}/{c} as a decimal, rounded to 3 places?", "Factor x^2 + {s}x + {prod}.", "Show that sqrt(2) is irrational.",
    "Find the eigenvalues of [[{a}, 1], [1, {c}]].", "How much is {big} divided by {c}?",
    "calc {a}*{b}-{c}", "A recipe needs {c} eggs for {a} people. How many eggs for {b} people?",
    "What is the volume of a cube with side {c} cm?", "{name} runs {c} km every day for {a} days. How far in total?",
]
MATH_LITERALS = [
    "what's 17 squared", "Is 0.999... equal to 1? Prove it.", "Explain how to do long division with 1234 / 7",
    "solve x^2 - 5x + 6 = 0", "What is the integral of sin(x)cos(x)?", "Prove by induction that 1+2+...+n = n(n+1)/2",
    "derivative of e^(3x) * ln x", "How many zeros at the end of 100 factorial?", "what is 15% tip on $84.50",
    "Calcule 45 multiplié par 12.", "¿Cuánto es el 20% de 350?", "Berechne die Fläche eines Dreiecks mit Grundseite 8 und Höhe 5.",
    "Find the GCD of 462 and 1071 using Euclid's algorithm.", "What's the expected value of a fair six-sided die?",
    "A car depreciates 15% per year. What is a $30,000 car worth after 4 years?", "Convert 72 degrees Fahrenheit to Celsius.",
    "how many seconds are in a leap year", "What is log base 2 of 1024?", "Prove that the angles of a triangle sum to 180 degrees.",
    "Solve: 2^(x+1) = 64", "What is the 10th Fibonacci number?", "Compute 3/8 + 5/12 and simplify.",
]

REASONING_TEMPLATES = [
    "{name} is taller than {name2}, and {name2} is taller than {name3}. Who is the shortest? Explain your reasoning.",
    "If all {xs} are {ys} and some {ys} are {zs}, does it follow that some {xs} are {zs}? Why?",
    "Plan a {days}-day trip to {place} on a tight budget, with a day-by-day itinerary and trade-offs.",
    "We have to choose between {opt1} and {opt2} for our team. Walk through the pros, cons and risks and recommend one.",
    "Our {metric} dropped {p}% last week. What are the possible causes and how would you investigate them step by step?",
    "Three boxes are labelled apples, oranges and mixed, and all labels are wrong. You may pick one fruit from one box. How do you relabel them?",
    "Should a startup with {n} engineers {decision}? Reason through the second-order effects.",
    "Design a step-by-step plan to {goal} within {days} weeks, including what could go wrong.",
    "A farmer must cross a river with a wolf, a goat and a cabbage. The boat holds one item. How does he do it?",
    "What would happen to {system} if {change}? Think it through carefully.",
    "Compare the arguments for and against {debate}, then say which is stronger and why.",
    "I have {n} tasks with deadlines and only one day. How should I prioritise them? Tasks: {tasks}.",
    "Five people sit at a round table. {name} sits next to {name2} but not {name3}. Who can sit opposite {name}?",
    "Analyse this argument for logical flaws: '{fallacy}'",
    "Given that {premise}, what can we conclude, and what can't we?",
    "Break down how you would estimate {fermi}. Show your assumptions.",
    "You are in a room with two doors and two guards; one always lies, one always tells the truth. What one question finds the safe door?",
    "Work out the schedule: {name} can only meet mornings, {name2} not on Mondays, {name3} only Tuesday or Thursday. When can all three meet?",
    "Our {metric} rose after we {change2}, but so did {confound}. How do we tell whether the change caused it?",
    "Think step by step: which is the better long-term strategy for a small bakery, {opt1} or {opt2}?",
    "Why might {paradox} be true even though it seems counter-intuitive?",
    "Rank these options for {goal} by impact and effort, and justify the order: {tasks}.",
    "What is the flaw in this plan: we {decision_plan} to fix our falling {metric}?",
    "Our team of {n} keeps missing deadlines. Diagnose likely root causes and propose a plan, reasoning step by step.",
    "If {premise}, is the following valid: therefore the opposite holds? Explain.",
    "Which should come first when we {goal}: speed or safety? Lay out the trade-offs.",
    "Solve this riddle and explain: I have keys but no locks, space but no room. What am I?",
    "Evaluate the risks of {decision_plan} for a company with {n} employees, and propose mitigations.",
    "Decide between {opt1} and {opt2} given that cash is tight and the team is {n} people. Show your reasoning.",
    "A, B and C each say one sentence; exactly one lies. A: 'B lies.' B: 'C lies.' C: 'A and B both lie.' Who is lying?",
]
REASONING_SLOTS = {
    "name": NAMES, "name2": NAMES, "name3": NAMES, "place": PLACES,
    "xs": ["bloops", "cats", "managers", "squares", "poets"], "ys": ["razzies", "mammals", "employees", "rectangles", "dreamers"],
    "zs": ["lazzies", "pets", "engineers", "rhombuses", "travellers"], "days": ["3", "5", "7", "10"], "n": ["3", "4", "5", "6", "12", "40"],
    "opt1": ["a monolith", "hiring a senior", "raising prices", "building in-house", "a four-day week", "expanding to a second location"],
    "opt2": ["microservices", "two juniors", "adding a cheaper tier", "buying a vendor tool", "flexible hours", "selling online"],
    "metric": ["signup conversion", "weekly active users", "average order value", "email open rate", "NPS", "checkout completion"],
    "p": ["12", "20", "35", "8"], "decision": ["rewrite its backend", "adopt Kubernetes", "offer a free tier", "go fully remote", "enter the enterprise market"],
    "goal": ["launch a newsletter", "cut cloud costs by 30%", "prepare for a job interview", "move house", "learn Spanish to B1", "migrate a database with no downtime"],
    "system": ["a city's traffic", "the housing market", "an ecosystem", "a company's culture", "global shipping"],
    "change": ["all cars became self-driving overnight", "interest rates doubled", "wolves were reintroduced", "meetings were banned", "the Suez Canal closed for a year"],
    "debate": ["universal basic income", "nuclear power", "banning phones in schools", "remote work", "a four-day work week"],
    "tasks": ["write report (due today), reply to client (urgent), fix bug (blocking release), book flights (cheap until tomorrow)",
              "pay taxes, plan birthday party, study for exam, call plumber", "hire designer, fix onboarding, redo pricing page, write docs"],
    "fallacy": ["Everyone I know likes the product, so it will sell well", "We have always done it this way, so it must be right",
                "Sales rose after the ad, so the ad caused it", "If we allow this, soon everything will be allowed",
                "He is not an expert, so his argument is wrong"],
    "premise": ["every employee who passed training got access, and Sam has access", "the alarm rings only when the door opens, and it did not ring",
                "no reptiles have fur and some pets are reptiles", "the meeting is on a weekday and not Monday to Thursday"],
    "fermi": ["how many piano tuners work in Chicago", "how many litres of coffee a city of a million drinks a day",
              "how many golf balls fit in a school bus", "the number of windows in New York City"],
    "change2": ["redesigned the homepage", "lowered prices", "launched in a new country", "changed the onboarding email"],
    "confound": ["the holiday season started", "a competitor shut down", "we ran a big ad campaign", "a viral tweet mentioned us"],
    "decision_plan": ["double the marketing budget", "cut the free trial", "hire five salespeople at once", "rewrite the app in a new framework", "outsource support"],
    "paradox": ["adding a road can make traffic worse", "the Monty Hall switch wins two thirds of the time", "more choice can make people less happy", "a more accurate test can still mostly give false positives"],
}
REASONING_LITERALS = [
    "If it takes 5 machines 5 minutes to make 5 widgets, how long would 100 machines take to make 100 widgets? Explain.",
    "Plan my week: gym 3x, finish a report by Thursday, visit my parents, and I work 9 to 5.",
    "What are the trade-offs between consistency and availability when designing our order system?",
    "A man looks at a portrait and says 'brothers and sisters I have none, but that man's father is my father's son'. Who is in the portrait?",
    "Should I take the job with higher pay and a long commute or the lower-paid remote one? Help me think it through.",
    "Why did the Roman Empire fall? Weigh the competing explanations.",
    "Our churn doubled after a price change and a new competitor launched the same month. Which caused it?",
    "Un escargot monte un mur de 10 m : 3 m le jour, il glisse de 2 m la nuit. Combien de jours ? Explique ton raisonnement.",
    "¿Qué estrategia seguirías para reducir la rotación de personal en un restaurante? Razona paso a paso.",
    "Wie würdest du vorgehen, um herauszufinden, warum unsere Website langsamer geworden ist?",
    "Is it ever rational to buy a lottery ticket? Argue both sides.",
    "Sudoku strategy: how do you decide which cell to fill first?",
    "Two trains leave at the same time toward each other; which is closer to the first station when they meet? Think carefully.",
    "Help me decide the order to tackle: broken CI, angry customer email, quarterly plan due Friday.",
]

KNOWLEDGE_TEMPLATES = [
    "What is {topic}?", "Explain {topic} briefly.", "When did {event} happen?", "Who was {person}?",
    "What is the capital of {place}?", "What language is spoken in {place}?", "What is {person} best known for?",
    "How does {topic} work?", "Tell me about the history of {topic}.", "What currency does {place} use?",
    "What is our {org}?", "Where can I find the {org}?", "Who do I contact about the {org}?",
    "What's the company's {org} for contractors?", "Can you tell me the {org} for the London office?",
    "What are the main causes of {topic}?", "Is it true that {claim}?", "What is the population of {place}, roughly?",
    "Which is bigger, {place} or {place2}?", "Why is {topic} important?", "What's the difference between {kpair}?",
    "What year was {person} born?", "Define {term}.", "What does {acro} stand for?",
    "Which countries border {place}?", "What is the highest mountain in {place}?", "How long do {animal} live?",
    "What do {animal} eat?", "What are the symptoms of {illness}?", "Who invented the {invention}?",
    "What is the boiling point of {substance}?", "Summarise what is known about {topic} in a paragraph.",
]
KNOWLEDGE_SLOTS = {
    "topic": TOPICS, "person": PEOPLE, "place": PLACES, "place2": PLACES, "org": ORG_TOPICS,
    "event": ["the fall of the Berlin Wall", "the first Moon landing", "the signing of the Magna Carta", "World War I",
              "the invention of the telephone", "the first iPhone release", "the Chernobyl disaster", "the founding of the UN"],
    "claim": ["goldfish have a three-second memory", "the Great Wall is visible from space", "bats are blind",
              "lightning never strikes the same place twice", "humans use only 10% of their brains"],
    "kpair": ["a virus and a bacterium", "weather and climate", "a comet and an asteroid", "stocks and bonds",
              "a crocodile and an alligator", "RAM and storage", "the UK and Great Britain"],
    "term": ["opportunity cost", "entropy", "photosynthesis", "GDP", "a black hole", "machine learning", "inflation", "a sonnet"],
    "acro": ["NASA", "GDPR", "HTTP", "UNESCO", "DNA", "SLA", "OKR", "NATO"],
    "animal": ["elephants", "octopuses", "honeybees", "tortoises", "koalas", "penguins"],
    "illness": ["the flu", "migraine", "anaemia", "Lyme disease", "dehydration"],
    "invention": ["telephone", "light bulb", "printing press", "World Wide Web", "steam engine", "transistor"],
    "substance": ["water at sea level", "ethanol", "liquid nitrogen", "olive oil"],
}
KNOWLEDGE_LITERALS = [
    "how tall is mount everest", "who wrote pride and prejudice", "what's the speed of light", "why is the sky blue",
    "who won the 2018 world cup", "how many bones in the human body", "what is the largest ocean",
    "Quelle est la capitale de l'Australie ?", "¿Quién pintó La noche estrellada?", "Wann wurde die Berliner Mauer gebaut?",
    "What's the VPN address for the Singapore office?", "Do we get the day after Thanksgiving off?",
    "How many vacation days do new hires get?", "Which team owns the billing service?", "What's the wifi password policy for guests?",
    "What is the difference between an LLC and a corporation?", "How do vaccines train the immune system?",
    "what's the tallest building in the world", "Which planet has the most moons?", "what does a CFO do",
]

EXTRACTION_TEMPLATES = [
    "{ask}:\n\n{doc}", "{doc}\n\n{ask}.", "{ask}.\nText: \"{doc}\"", "Here is an email.\n---\n{doc}\n---\n{ask}",
    "Read the text below and {ask_lower}.\n\n{doc}", "{ask} (text follows)\n{doc}",
    "From the passage, {ask_lower}: {doc}", "Document:\n{doc}\n\nTask: {ask}.",
    "Please {ask_lower}. Output only the result.\n\n{doc}", "{doc}\n\n--\nCan you {ask_lower}?",
]
EXTRACTION_SLOTS = {"ask": EXTRACT_ASKS, "doc": DOCS}
EXTRACTION_LITERALS = [
    "Summarise: The city council voted 7-2 on Tuesday to extend the bike lane network by 40 km over five years, funded by a parking levy.",
    "Extract the price and the date: 'Your booking for 2 nights at Hotel Lumen on 14 Oct costs EUR 312.'",
    "Is this review positive or negative? 'Arrived late, box crushed, but the product works perfectly.'",
    "Fix the grammar: 'me and him goes to the store yesterday and buyed three apple.'",
    "Rewrite more politely: 'Send me the file now, you're late again.'",
    "Résume ce texte en une phrase : La réunion a été reportée à jeudi car le directeur est malade.",
    "Extrae los nombres de este texto: 'Ana y Luis se reunieron con el señor Pérez en Madrid.'",
    "Fasse zusammen: Der Zug fällt heute aus, Ersatzbusse fahren ab 10 Uhr vom Hauptbahnhof.",
    "Translate to French: 'The meeting is moved to Friday at 3pm.'",
    "Label each line as bug, feature or question:\n- app crashes on login\n- add dark mode\n- how do I export data?",
    "Turn this list into a comma-separated line: apples\nbananas\npears\nplums",
    "Paraphrase: 'The quarterly numbers exceeded expectations across all regions.'",
]

WRITING_TEMPLATES = [
    "Write a {tone} {form} about {theme}.", "Write a {form} about {theme}.", "Can you write me a {tone} {form}? Topic: {theme}.",
    "Write a product description for {product} aimed at {audience}.", "Give me five taglines for {product}.",
    "Draft a LinkedIn post announcing {announcement}.", "Write an Instagram caption for {product}, {tone} tone.",
    "Brainstorm 10 names for {business}.", "Brainstorm ideas for {event_idea}.", "Write a cold email pitching {product} to {audience}.",
    "Pretend you are {character} and tell me about your day.", "Let's role-play: you are {character} and I am a new recruit.",
    "Write a wedding toast for my friend {name}, {tone} but short.", "Write the opening paragraph of a {genre} novel.",
    "Write a speech for {occasion}.", "Come up with a plot twist for a story about {theme}.",
    "Write song lyrics about {theme} in the style of a {genre2} song.", "Write a blog post intro about {blog}.",
    "Write ad copy for {product} for a billboard.", "Write a {tone} birthday message for {name}.",
    "Create a short dialogue between {character} and {character2}.", "Give me a creative writing prompt about {theme}.",
    "Write a {tone} out-of-office message.", "Write a children's story about {theme} with a moral.",
    "Write a newsletter intro for {audience} about {announcement}.", "Write a landing page hero section for {product}.",
    "Describe {setting} in vivid, sensory detail.", "Write a villain's monologue for {genre} story.",
]
WRITING_SLOTS = {
    "tone": TONES, "form": FORMS, "theme": THEMES, "product": PRODUCTS, "audience": AUDIENCES, "name": NAMES,
    "announcement": ["our new office in Lisbon", "my promotion to engineering manager", "our Series A", "a product launch next week", "our 10th anniversary"],
    "business": ["a dog-walking startup", "a vegan bakery", "a cybersecurity consultancy", "a kids' coding club", "a podcast about history"],
    "event_idea": ["a team offsite", "a charity fundraiser", "a product launch party", "a kid's birthday", "a hackathon theme"],
    "character": ["a pirate captain", "Sherlock Holmes", "a medieval knight", "a grumpy wizard", "a space station AI", "a 1920s jazz singer"],
    "character2": ["a curious child", "a talking cat", "a tax inspector", "a ghost", "a time traveller"],
    "genre": ["fantasy", "sci-fi", "noir detective", "horror", "romance", "thriller"],
    "genre2": ["country", "punk", "blues", "pop", "sea shanty"],
    "occasion": ["my sister's graduation", "a retirement party", "the opening of a community garden", "a team kickoff"],
    "blog": ["minimalist living", "learning to code at 40", "sustainable travel", "remote team rituals"],
    "setting": ["a night market in Bangkok", "an abandoned space station", "a cabin in a snowstorm", "a busy train station at dawn"],
}
WRITING_LITERALS = [
    "write me a poem about my cat", "a haiku about monday mornings please", "Tell me a bedtime story about a brave little turtle.",
    "Give me 20 blog post ideas for a fitness coach.", "write a funny limerick about a programmer", "Écris un poème sur l'automne.",
    "Escribe un cuento corto sobre un dragón tímido.", "Schreibe ein Gedicht über das Meer.", "Write a rap verse about coffee.",
    "I need a catchy slogan for my lemonade stand", "Write a eulogy for my grandfather who loved fishing.",
    "pretend to be my D&D dungeon master and start an adventure", "Write a sonnet about the ocean in the style of Shakespeare.",
    "Come up with a name and backstory for my fantasy elf character.",
]

CATEGORIES = {
    "chat": (CHAT_TEMPLATES, CHAT_SLOTS, CHAT_LITERALS),
    "coding": (CODING_TEMPLATES, CODING_SLOTS, CODING_LITERALS),
    "math": (MATH_TEMPLATES, {}, MATH_LITERALS),
    "reasoning": (REASONING_TEMPLATES, REASONING_SLOTS, REASONING_LITERALS),
    "knowledge": (KNOWLEDGE_TEMPLATES, KNOWLEDGE_SLOTS, KNOWLEDGE_LITERALS),
    "extraction": (EXTRACTION_TEMPLATES, EXTRACTION_SLOTS, EXTRACTION_LITERALS),
    "writing": (WRITING_TEMPLATES, WRITING_SLOTS, WRITING_LITERALS),
}

SYSTEM_PROMPTS = ["You are a helpful assistant.", "You are a concise assistant. Answer briefly.",
                  "You are Acme Corp's internal assistant. Be accurate and cite policy names when relevant.",
                  "You are a friendly support agent for a telecom company.", "Respond in Markdown.",
                  "You are an expert tutor. Explain step by step.", "Always answer in the user's language."]
PREFIXES = ["", "", "", "", "Please ", "Can you help? ", "Quick one: ", "Hey, ", "I need help. ", "Urgent: "]
SUFFIXES = ["", "", "", "", " Thanks!", " Be concise.", " Keep it short.", " Explain in detail.", " ty", " Please."]
FOLLOWUPS = {
    "coding": ["now do it in {lang}", "can you add error handling to that?", "that still crashes, {bug}", "make it async"],
    "math": ["and what if it were {a} instead?", "show the steps", "now divide that by {c}"],
    "writing": ["make it shorter and {tone}", "now a version for {audience}", "give me three more options"],
    "extraction": ["now just the dates", "make the summary one sentence", "put that in a table"],
    "knowledge": ["and when was that?", "who else was involved?", "why is that?"],
    "reasoning": ["what if the budget were halved?", "what's the biggest risk in your plan?", "re-check your logic step by step"],
    "chat": ["haha ok", "thanks!", "cool, bye"],
}


def fill(rng, template, slots):
    values = {}
    math_vals = {"a": rng.randint(2, 60), "b": rng.randint(2, 90), "c": rng.randint(2, 12), "p": rng.choice([5, 10, 12, 15, 20, 25, 30, 40]),
                 "big": rng.choice([120, 250, 480, 999, 1250, 2024, 3600, 7919, 15000, 48000]), "sq": rng.choice([49, 144, 225, 361, 1024, 2]),
                 "poly": rng.choice(["3x^2 + 2x - 5", "x^3 - 4x", "sin(x) * x^2", "e^(2x)", "ln(x) / x", "5x^4 - x + 7"]),
                 "obj": rng.choice(MATH_OBJS), "name": rng.choice(NAMES), "name2": rng.choice(NAMES)}
    s = rng.randint(3, 11)
    m = rng.randint(1, s - 1)
    math_vals.update({"s": s, "prod": m * (s - m)})
    def pick(key):
        if key in values:
            return values[key]
        if key.endswith("_lower"):
            v = pick(key[:-6])
            values[key] = v[0].lower() + v[1:]
            return values[key]
        pool = slots.get(key)
        v = rng.choice(pool) if pool else str(math_vals[key])
        values[key] = v
        return v
    # One pass over the template only: filled values (code snippets) may contain braces.
    return re.sub(r"\{([a-z0-9_]+)\}", lambda m: pick(m.group(1)), template)


def vary(rng, text):
    prefix = rng.choice(PREFIXES)
    if prefix.endswith("Please ") or prefix.endswith("Hey, "):
        text = text[0].lower() + text[1:]
    text = prefix + text + rng.choice(SUFFIXES)
    r = rng.random()
    if r < 0.15:
        text = text.lower()
    elif r < 0.2:
        text = text.rstrip(".?!")
    return text


def wrap(rng, category, text, all_texts):
    """Adds system prompts and history so the classifier learns to read the last user turn."""
    messages = []
    r = rng.random()
    if r < 0.25:
        messages.append({"role": "system", "content": rng.choice(SYSTEM_PROMPTS)})
    r = rng.random()
    if r < 0.15:
        other_cat = rng.choice([c for c in all_texts if c != category])
        messages.append({"role": "user", "content": rng.choice(all_texts[other_cat])})
        messages.append({"role": "assistant", "content": "Sure, here you go: ..."})
    elif r < 0.22 and category != "chat":
        # A follow-up: the first turn carries the category, the last user turn only refers to it.
        messages.append({"role": "user", "content": text})
        messages.append({"role": "assistant", "content": "Here is my answer. ..."})
        slots = {**CODING_SLOTS, **WRITING_SLOTS}
        text = fill(rng, rng.choice(FOLLOWUPS[category]), slots)
    messages.append({"role": "user", "content": text})
    return messages


def main():
    rng = random.Random(SEED)
    rows = []
    raw = {c: [] for c in CATEGORIES}
    for category, (templates, slots, literals) in CATEGORIES.items():
        per_template = -(-(TARGET_PER_CATEGORY - len(literals)) // len(templates))
        for i, template in enumerate(templates):
            seen = set()
            for _ in range(per_template * 4):
                if len(seen) >= per_template:
                    break
                text = vary(rng, fill(rng, template, slots))
                if text in seen:
                    continue
                seen.add(text)
                raw[category].append((f"{category}/t{i}", text))
        for i, literal in enumerate(literals):
            raw[category].append((f"{category}/l{i}", literal))
    texts = {c: [t for _, t in v] for c, v in raw.items()}
    for category, items in raw.items():
        for group, text in items:
            digest = int(hashlib.sha256(group.encode()).hexdigest(), 16)
            split = "test" if digest % 5 == 0 else "train"
            rows.append({"category": category, "group": group, "split": split,
                         "messages": wrap(rng, category, text, texts)})
    for row in rows:
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
