"""Random container names in Docker's style: `adjective_scientist`."""

from __future__ import annotations

import random

ADJECTIVES = (
    "admiring adoring affectionate agitated amazing angry awesome blissful bold boring "
    "brave charming clever compassionate competent condescending confident cool cranky "
    "crazy dazzling determined distracted dreamy eager ecstatic elastic elated elegant "
    "eloquent epic exciting fervent festive flamboyant focused friendly frosty funny "
    "gallant gifted goofy gracious great happy hardcore heuristic hopeful hungry "
    "infallible inspiring intelligent interesting jolly jovial keen kind laughing loving "
    "lucid magical modest musing mystifying naughty nervous nice nifty nostalgic "
    "objective optimistic peaceful pedantic pensive practical priceless quirky quizzical "
    "recursing relaxed reverent romantic sad serene sharp silly sleepy stoic strange "
    "stupefied suspicious sweet tender thirsty trusting unruffled upbeat vibrant vigilant "
    "vigorous wizardly wonderful xenodochial youthful zealous zen"
).split()

# People whose work containers stand on.
SURNAMES = (
    "torvalds thompson ritchie kerrisk biederman menage poettering hallyn lameter "
    "morton hykes crosby mcilroy kernighan lovelace hopper turing dijkstra knuth "
    "lamport liskov hamilton goldberg perlman cerf kahn postel stallman tanenbaum "
    "bach pike cox thompson_k mccarthy backus wirth hoare ousterhout"
).split()


def generate(taken: set[str]) -> str:
    for _ in range(100):
        name = f"{random.choice(ADJECTIVES)}_{random.choice(SURNAMES)}"
        if name not in taken:
            return name
    # Docker appends a digit once the plain names run out.
    while True:
        name = f"{random.choice(ADJECTIVES)}_{random.choice(SURNAMES)}{random.randint(0, 9)}"
        if name not in taken:
            return name
