"""Make an ensemble of trained models: a card that averages their answers, with no weights of its own.

    python -m train.ensemble --members ferplus ferplus_a ferplus_bal --name ferplus_ens \
        --data ../shared/data/fer2013.csv.gz --ferplus ../shared/data/fer2013new.csv --temperature 0.6

The members (shipped names or model files, all in one folder) must share their labels and input
size. The ensemble's card goes beside them; it takes the crop, grey levels, class shares and
class-share correction of the first member (or --prior-alpha), the confidence temperature given
(--temperature; default 1: averaged answers are flatter than a member's, so a member's would not fit) and records the ensemble's accuracy
as the program runs it (each member's int8 TFLite copy on a CPU), with its report and confusion
matrix. It is scored on the faces its members held out of the data for validation and test (an image folder
without val/ or test/ holds them out of train/ by the --seed in their cards: members trained with different seeds
are refused there, as some of those faces would be ones another member trained on), cut with its crop; its card
records that seed, so that `python -m train.evaluate` holds out the same faces. Each face costs one model call per
member.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from realtime.__main__ import Parser, number
from realtime.classify import Classifier, ModelError, shipped_model
from realtime.card import ModelCard
from train.data import DatasetError, held_out_of_train, model_dataset, trained_seed

# What the ensemble's card takes over from its first member's.
INHERITED = ("labels", "input", "preprocessing", "output", "crop", "levels", "class_prior", "prior_alpha", "dataset")


def members_seed(members: list[Path], data: str) -> int:
    """The --seed the members were trained with (their cards'), by which an image folder without val/ or test/
    held their faces for those splits out of train/; members whose seeds differ held out different faces there."""
    seeds = {member.stem: trained_seed(ModelCard.load(member).data) for member in members}
    if len(set(seeds.values())) > 1 and held_out_of_train(data):
        trained = ", ".join(f"{name} {seed}" for name, seed in seeds.items())
        raise DatasetError(f"the members held out different faces of {data} for val and test (--seed: {trained}), so "
                           "the ensemble would be scored on faces some member trained on: train them with one --seed "
                           "(or give the folder its own val/ and test/)")
    return next(iter(seeds.values()))


def make_card(members: list[Path], name: str, prior_alpha: float | None, temperature: float = 1.0,
              overwrite: bool = False, seed: int = 0) -> Path:
    """Write NAME.json beside the members; returns its path. A card already there (another model's, a shipped
    one's) is kept unless `overwrite`. `seed`: the --seed the members held their val and test faces out by, for
    the tools (`train.evaluate`) to hold out the same."""
    folder = members[0].parent
    if any(member.parent != folder for member in members):
        raise ModelError("the members of an ensemble must be in one folder (its card names them by name)")
    if len(members) < 2:
        raise ModelError("an ensemble needs at least two members")
    cards = [ModelCard.load(member).data for member in members]
    first = cards[0]
    card = {"name": name, "members": [member.stem for member in members]}
    card.update({key: first[key] for key in INHERITED if key in first})
    card["flip_average"] = False
    if prior_alpha is not None:
        card["prior_alpha"] = prior_alpha
    card["temperature"] = temperature
    card["parameters"] = sum(int(c.get("parameters", 0)) for c in cards)
    card["storage"] = "no model file of its own: the answers of the members, each run as on its own, averaged"
    card["training"] = {"arguments": {"seed": seed}}  # (the members'; model_dataset takes it from here)
    path = folder / f"{name}.json"
    if path.resolve() in {member.with_suffix(".json").resolve() for member in members}:
        raise ModelError(f"the ensemble's name {name} is one of its members'")
    if path.exists() and not overwrite:
        raise ModelError(f"{path} exists: choose another --name, or pass --overwrite")
    path.write_text(json.dumps(card, indent=2) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    from train.export import measure

    parser = Parser(prog="python -m train.ensemble", description=__doc__.splitlines()[0])
    parser.add_argument("--members", nargs="+", required=True, help="the models to average (names or .keras files)")
    parser.add_argument("--name", required=True, help="the ensemble's name (its card: NAME.json beside the members)")
    parser.add_argument("--data", required=True, help="the dataset the members were trained on, to score the ensemble")
    parser.add_argument("--ferplus", help="FER+ votes, if they were trained on them")
    parser.add_argument("--overwrite", action="store_true", help="replace a card of that name already there")
    parser.add_argument("--prior-alpha", type=number(float, 0, 1),
                        help="class-share correction, 0-1 (default: the first member's)")
    parser.add_argument("--temperature", type=number(float, 0.05, 20), default=1.0,
                        help="confidence temperature for the card (default 1; docs/accuracy.md: How confident)")
    args = parser.parse_args(argv)
    if not args.name.replace("_", "").replace("-", "").isalnum():
        print(f"error: --name {args.name!r}: use letters, digits, - and _", file=sys.stderr)
        return 2
    path = None
    try:
        members = [shipped_model(member).with_suffix(".keras") for member in args.members]
        seed = members_seed(members, args.data)
        path = make_card(members, args.name, args.prior_alpha, args.temperature, args.overwrite, seed)
        classifier = Classifier(path, backend="tflite")  # loads and checks each member as it would load alone
        # the faces the members held out (by their seed), cut with the ensemble's crop, as train.evaluate takes them
        dataset = model_dataset(classifier.card.data, args.data, ferplus=args.ferplus)
        card = dict(classifier.card.data)
        card["metrics"] = measure(classifier, dataset, card, path.with_suffix(""))
        path.write_text(json.dumps(card, indent=2) + "\n")
    except (ModelError, DatasetError, ValueError, KeyError) as err:
        if path is not None:  # no card for an ensemble that does not load or cannot be scored
            path.unlink(missing_ok=True)
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {path} (the mean of {', '.join(card['members'])}) and its report and confusion matrix")
    return 0


if __name__ == "__main__":
    sys.exit(main())
