"""LINE's documented limits, the one place they are stated (docs/line-platform.md#message-limits says where each
figure comes from). bot/delivery/line.py checks what is sent against them, bot/content checks what staff write,
and the fake LINE platform (bot/dev/fake_line.py) refuses what LINE would. A project's own, lower caps live with
the code that chooses them, under names of their own.

Units differ and matter: "characters" are what len() counts on a str; "UTF-16 units" count a character outside
the Basic Multilingual Plane (most emoji) as two, as LINE does for text messages; "bytes" are of the UTF-8 JSON.

This module imports nothing from bot/, so every layer may import it.
"""

from __future__ import annotations

# Sending (docs/line-platform.md#recipients-and-quota)
MESSAGES_PER_REQUEST = 5  # message objects in one reply, push, multicast or broadcast: 1 to 5 (spec, maxItems)
MULTICAST_MAX_RECIPIENTS = 500  # user ids in one multicast request: 1 to 500 (spec, maxItems)
REQUEST_BODY_MAX_BYTES = 2 * 1024 * 1024  # a whole request body: 2 MB (docs)

# Text messages
TEXT_MAX_UTF16 = 5000  # a text message: 5,000 characters, which LINE counts in UTF-16 units (docs)

# Quick reply
QUICK_REPLY_ITEMS_MAX = 13  # buttons under one message (spec, maxItems)
QUICK_REPLY_LABEL_MAX = 20  # characters of a quick-reply button's label (docs)

# Actions
POSTBACK_DATA_MAX = 300  # characters of a postback action's data (spec, maxLength)

# Flex messages
ALT_TEXT_MAX = 1500  # characters of a flex message's altText (docs)
FLEX_BUBBLE_MAX_BYTES = 30_000  # one bubble's JSON: 30 KB (docs), read as 30,000 bytes, the stricter reading
FLEX_CAROUSEL_MAX_BUBBLES = 12  # bubbles in one carousel (docs)
FLEX_CAROUSEL_MAX_BYTES = 50_000  # a carousel's JSON: 50 KB (docs), read as 50,000 bytes

# Rich menu (docs/line-platform.md#rich-menu)
RICH_MENU_AREAS_MAX = 20  # tap areas in one rich menu (spec, maxItems)
RICH_MENU_CHAT_BAR_TEXT_MAX = 14  # characters of chatBarText, the words on the chat bar (spec, maxLength)
RICH_MENU_NAME_MAX = 300  # characters of a rich menu's name, which only staff see (spec, maxLength)
RICH_MENU_IMAGE_MAX_BYTES = 1024 * 1024  # the image file: 1 MB (docs), read as 1,048,576 bytes
RICH_MENU_IMAGE_WIDTH_MIN = 800  # the image: at least 800 pixels wide (docs)
RICH_MENU_IMAGE_WIDTH_MAX = 2500  # the image: at most 2,500 pixels wide (docs)
RICH_MENU_IMAGE_HEIGHT_MIN = 250  # the image: at least 250 pixels high (docs)
RICH_MENU_IMAGE_ASPECT_MIN = 1.45  # the image: width / height at least 1.45 (docs)

# Loading animation (docs/line-platform.md#loading-animation)
LOADING_SECONDS_STEP = 5  # loadingSeconds is a multiple of 5, from 5 to 60 (spec)


def utf16_len(text: str) -> int:
    """Length as LINE counts a text message: UTF-16 code units (an emoji outside the BMP counts as 2)."""
    return len(text.encode("utf-16-le")) // 2
