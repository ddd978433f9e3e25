"""An amount in Chinese capital numerals (大写金额), as written on Chinese
financial documents so that a figure cannot be altered by a stroke.

The rules are those of the People's Bank of China's settlement rules
(《支付结算办法》附一): the capital digits 壹贰叁肆伍陆柒捌玖 with 拾佰仟 and
the sections 万 and 亿; one 零 for any run of zeros inside the number (and
before a section of less than a thousand); 元 ends the integer part, 整
follows when there is nothing after 元; 零 stands between 元 and 分 when
the 角 are zero; nothing follows 分. A leading ten is 壹拾, as cheques and
statements write it. An amount below one yuan starts at its 角 or 分.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
UNITS = ("", "拾", "佰", "仟")
SECTIONS = ("", "万", "亿", "万亿")


def _section(value: int) -> str:
    """0 < value < 10000, without leading zeros."""
    text = ""
    zero = False
    for position in range(3, -1, -1):
        digit = value // 10**position % 10
        if digit == 0:
            zero = bool(text)
            continue
        if zero:
            text += DIGITS[0]
        text += DIGITS[digit] + UNITS[position]
        zero = False
    return text


def _integer(value: int) -> str:
    sections = []
    while value:
        sections.append(value % 10000)
        value //= 10000
    if len(sections) > len(SECTIONS):
        raise ValueError("amount too large for capital numerals")
    text = ""
    zero = False
    for index in range(len(sections) - 1, -1, -1):
        section = sections[index]
        if section == 0:
            zero = bool(text)
            continue
        if text and (zero or section < 1000):
            text += DIGITS[0]
        text += _section(section) + SECTIONS[index]
        zero = False
    return text


def capital_amount(amount: Decimal) -> str:
    """``amount`` (rounded half up to fen) in capital numerals, e.g.
    613.43 -> 陆佰壹拾叁元肆角叁分; a negative amount starts with 负."""
    fen = int((abs(amount) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    sign = "负" if amount < 0 and fen else ""
    yuan, jiao, cents = fen // 100, fen // 10 % 10, fen % 10
    if fen == 0:
        return "零元整"
    text = _integer(yuan) + "元" if yuan else ""
    if jiao == 0 and cents == 0:
        return sign + text + "整"
    if jiao:
        text += DIGITS[jiao] + "角"
    elif yuan:
        text += DIGITS[0]
    if cents:
        text += DIGITS[cents] + "分"
    return sign + text
