"""Where the truth is loaded: the hand-written specs (``specs/``) and the rule catalog (``contracts/``).

Every check reads its expectations from here and nowhere else.
"""
