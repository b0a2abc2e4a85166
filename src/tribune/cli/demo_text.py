"""The words of the demo: post and bio templates, in English and in French.

Templates are filled with Faker's names, cities, jobs and days (see ``demo._fill``).
Every post template carries at least one hashtag.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Voice:
    language: str
    locale: str
    posts: tuple[str, ...]
    replies: tuple[str, ...]
    bios: tuple[str, ...]
    interests: tuple[str, ...]
    tags: tuple[str, ...]
    topics: tuple[str, ...]
    dishes: tuple[str, ...]
    things: tuple[str, ...]
    facts: tuple[str, ...]


ENGLISH = Voice(
    language="en",
    locale="en_US",
    posts=(
        "Morning walk through {city} before work. The light was perfect today. #photography",
        "Finally finished the book {first} lent me. Two hundred pages of pure joy. #books #reading",
        "Hot take: {topic} is underrated. Change my mind. #hottake",
        "Anyone else going to the {city} meetup on {day}? @{other} are you in? #meetup",
        "Trying a new recipe tonight: {dish}. Wish me luck. #cooking",
        "Reminder to drink water and take breaks. Your future self will thank you. #wellbeing",
        "Spent the afternoon fixing my bike instead of doing my actual job ({job}). "
        "No regrets. #cycling",
        "Just published a small open-source tool for {thing}. Feedback welcome! #opensource",
        "The farmers' market in {city} on {day} mornings is the best part of my week. #food",
        "Rainy {day} in {city}. Tea, a blanket and a good playlist. #cozy",
        "Today I learned: {fact}. #TIL",
        "Our balcony garden finally has {n} tomatoes. Small wins. #gardening",
        "Looking for podcast recommendations about {topic}. What do you listen to? #podcasts",
        "Watched the sunset over {city} tonight. Unreal colours. #sunset #photography",
        "Thanks @{other} for the tip about {dish}, it was delicious! #cooking",
        "{n} days into learning French. Je suis fatigué mais content. #languages",
        "Train ride to {city}: {n} stations, one good book, zero wifi. Perfect. #travel",
        "Hello fediverse! Happy to be here, say hi if you like {topic}. #introduction",
    ),
    replies=(
        "Totally agree!",
        "Ha, this made my day.",
        "Where was this taken? It looks lovely.",
        "Same here, it happened to me last week.",
        "Thanks for sharing, saving this for later.",
        "Count me in!",
        "Could not have said it better.",
        "Now I'm hungry. #cooking",
        "Welcome! Glad you're here. #introduction",
        "Respectfully, I disagree. But I see your point.",
    ),
    bios=(
        "{job} in {city}. {interest}. #{tag}",
        "{interest}. Day job: {job}. Posts about #{tag} and whatever else.",
        "Based in {city}. {interest}. #{tag}",
        "{job}. {interest}. Opinions are my own. #{tag}",
    ),
    interests=(
        "Coffee first, questions later",
        "Usually found on a bike",
        "Reading too many books at once",
        "Amateur baker and cat person",
        "Chasing sunsets with a camera",
        "Learning French, one croissant at a time",
        "Houseplant collector",
        "Writing code and bad poetry",
    ),
    tags=("books", "photography", "cycling", "cooking", "opensource", "gardening", "music"),
    topics=("public transport", "pineapple on pizza", "board games", "long train journeys",
            "handwritten letters", "the Oxford comma", "old-school RSS readers"),
    dishes=("mushroom risotto", "lemon drizzle cake", "spicy ramen", "shakshuka",
            "homemade pizza", "banana bread", "black bean tacos"),
    things=("renaming photos by date", "tracking when to water houseplants",
            "splitting bills with friends", "converting recipes to metric",
            "finding quiet cafés"),
    facts=("octopuses have three hearts", "honey never really spoils",
           "bananas are berries but strawberries are not",
           "a day on Venus is longer than its year",
           "the Eiffel Tower grows a little in summer"),
)

FRENCH = Voice(
    language="fr",
    locale="fr_FR",
    posts=(
        "Balade matinale à {city} avant le travail. La lumière était parfaite. #photographie",
        "J'ai enfin terminé le livre que {first} m'a prêté. Un vrai bonheur. #lecture",
        "Avis impopulaire : {topic}, c'est sous-estimé. Convainquez-moi du contraire. #débat",
        "Qui vient au meetup de {city} {day} ? @{other} tu es partant·e ? #meetup",
        "Ce soir, j'essaie une nouvelle recette : {dish}. Croisez les doigts. #cuisine",
        "Petit rappel : buvez de l'eau et faites des pauses. #bienêtre",
        "Après-midi passé à réparer mon vélo au lieu de travailler ({job}). "
        "Aucun regret. #vélo",
        "Je viens de publier un petit outil libre pour {thing}. "
        "Vos retours sont les bienvenus ! #logiciellibre",
        "Le marché de {city} le {day} matin, c'est le meilleur moment de la semaine. #marché",
        "{Day} pluvieux à {city}. Thé, plaid et bonne musique. #cocooning",
        "Appris aujourd'hui : {fact}. #JaiApprisAujourdhui",
        "Notre balcon compte enfin {n} tomates. Les petites victoires. #jardinage",
        "Vous avez des podcasts à conseiller sur {topic} ? #podcasts",
        "Coucher de soleil sur {city} ce soir. Des couleurs incroyables. #photographie",
        "Merci @{other} pour le conseil : {dish}, c'était délicieux ! #cuisine",
        "{n} jours que j'apprends l'anglais. Tired but happy. #langues",
        "Train pour {city} : {n} gares, un bon livre, pas de wifi. Parfait. #voyage",
        "Bonjour le fédivers ! Ravi·e d'être ici. #présentation",
    ),
    replies=(
        "Tout à fait d'accord !",
        "Ça m'a fait sourire, merci.",
        "C'est où, exactement ? C'est superbe.",
        "Pareil pour moi la semaine dernière.",
        "Merci du partage, je garde ça de côté.",
        "J'en suis !",
        "On ne saurait mieux dire.",
        "J'ai faim maintenant. #cuisine",
        "Bienvenue ! Content·e de te voir ici. #présentation",
        "Je ne suis pas d'accord, mais je comprends ton point de vue.",
    ),
    bios=(
        "{job} à {city}. {interest}. #{tag}",
        "{interest}. Dans la vie : {job}. Je parle de #{tag} et d'autres choses.",
        "Habite à {city}. {interest}. #{tag}",
        "{job}. {interest}. Mes opinions n'engagent que moi. #{tag}",
    ),
    interests=(
        "Café d'abord, questions ensuite",
        "Toujours sur mon vélo",
        "Trop de livres en cours",
        "Pâtisserie amateur et chats",
        "À la poursuite des couchers de soleil",
        "J'apprends l'anglais, un thé à la fois",
        "Collection de plantes vertes",
        "Du code et de la poésie",
    ),
    tags=("lecture", "photographie", "vélo", "cuisine", "logiciellibre", "jardinage",
          "musique"),
    topics=("les transports en commun", "la pizza à l'ananas", "les jeux de société",
            "les longs voyages en train", "les lettres manuscrites", "le vélo en ville",
            "les flux RSS"),
    dishes=("un risotto aux champignons", "une tarte au citron", "des ramen épicés",
            "une shakshuka", "une pizza maison", "un gratin dauphinois", "une ratatouille"),
    things=("renommer ses photos par date", "savoir quand arroser ses plantes",
            "partager les dépenses entre amis", "convertir des recettes",
            "trouver des cafés calmes"),
    facts=("les pieuvres ont trois cœurs", "le miel ne se périme presque jamais",
           "la banane est une baie, mais pas la fraise",
           "un jour sur Vénus dure plus longtemps qu'une année",
           "la tour Eiffel grandit un peu en été"),
)

VOICES = (ENGLISH, FRENCH)

RULES = (
    ("Be kind and respectful. No harassment, hate speech or personal attacks.",
     "Disagree with ideas, not with people."),
    ("Put a content warning on sensitive content.",
     "Violence, medical topics, spoilers and the like go behind a content warning."),
    ("No spam, scams or unsolicited advertising.", ""),
    ("Respect privacy: do not post other people's personal information.",
     "That includes addresses, phone numbers and private messages."),
)
