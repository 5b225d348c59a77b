"""A module of a layer `sam build` builds (BuildMethod python3.12), with its requirements."""


def shout(text: str) -> str:
    return text.upper() + "!"
