"""An independent Python model of lighteval 0.7.0's request construction for the card tasks.

Written for doge's tests from the protocol description (eval-protocol.md sections 2-3) and from
reading lighteval v0.7.0 (tasks/default_prompts.py, tasks/prompt_manager.py,
tasks/lighteval_task.py) and small-doge evaluation/base/tasks.py @5a2d488; no code was copied.
It uses the real CPython `random`, so its few-shot draws are the reference stream.

usage: python3 lighteval_reference.py TASK PROTOCOL DATA_DIR K RENDERED.jsonl
       python3 lighteval_reference.py --batch LIST   (LIST: one "TASK PROTOCOL DATA_DIR K FILE" a line)
Compares the `doge tasks render` output RENDERED.jsonl (all docs, dataset order) with this
model's requests; prints OK or the first differences and exits 1.
"""
import json
import random
import re
import string
import sys
from collections import defaultdict
from itertools import cycle

SUBJECTS = sorted(["abstract_algebra", "anatomy", "astronomy", "business_ethics", "clinical_knowledge",
    "college_biology", "college_chemistry", "college_computer_science", "college_mathematics",
    "college_medicine", "college_physics", "computer_security", "conceptual_physics", "econometrics",
    "electrical_engineering", "elementary_mathematics", "formal_logic", "global_facts",
    "high_school_biology", "high_school_chemistry", "high_school_computer_science",
    "high_school_european_history", "high_school_geography", "high_school_government_and_politics",
    "high_school_macroeconomics", "high_school_mathematics", "high_school_microeconomics",
    "high_school_physics", "high_school_psychology", "high_school_statistics", "high_school_us_history",
    "high_school_world_history", "human_aging", "human_sexuality", "international_law", "jurisprudence",
    "logical_fallacies", "machine_learning", "management", "marketing", "medical_genetics",
    "miscellaneous", "moral_disputes", "moral_scenarios", "nutrition", "philosophy", "prehistory",
    "professional_accounting", "professional_law", "professional_medicine", "professional_psychology",
    "public_relations", "security_studies", "sociology", "us_foreign_policy", "virology", "world_religions"])


class Doc:
    def __init__(self, query, choices, gold, instruction=""):
        self.query, self.choices, self.gold, self.instruction = query, choices, gold, instruction

    def key(self):
        return (self.query, json.dumps(self.choices), self.gold, self.instruction)

    def target(self):
        c = self.choices[self.gold]
        return c[0] if isinstance(c, list) else c


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def hs_pre(text):
    text = text.replace(" [title]", ". ")
    text = re.sub("\\[.*?\\]", "", text)
    return text.replace("  ", " ")


def make_doc(task, protocol, row, subject, fewshot):
    if task in ("arc_easy", "arc_challenge"):
        return Doc(f"Question: {row['question']}\nAnswer:", [f" {c}" for c in row["choices"]["text"]],
                   row["choices"]["label"].index(row["answerKey"]))
    if task == "openbookqa":
        return Doc(row["question_stem"], [f" {c}" for c in row["choices"]["text"]],
                   ["A", "B", "C", "D", "E"].index(row["answerKey"].strip()))
    if task == "piqa":
        return Doc(f"Question: {row['goal']}\nAnswer:", [f" {row['sol1']}", f" {row['sol2']}"], int(row["label"]))
    if task == "hellaswag":
        ctx = f"{row['ctx_a']} {row['ctx_b'].capitalize()} "
        return Doc(hs_pre(row["activity_label"] + ": " + ctx), [hs_pre(e) for e in row["endings"]], int(row["label"]))
    if task == "winogrande":
        q, rest = row["sentence"].split("_")
        rest = rest.strip()
        return Doc(q, [f"{row['option1']} {rest}", f"{row['option2']} {rest}"], int(row["answer"]) - 1)
    if task == "triviaqa":
        al = sorted(row["answer"]["aliases"])
        kept = [al[0]]
        for a in al[1:]:
            if not a.startswith(kept[-1]):
                kept.append(a)
        golds = [a.lower().translate(str.maketrans("", "", string.punctuation)) for a in kept]
        return Doc(f"Question: {row['question']}\nAnswer:", [golds], 0)
    if task == "mmlu" and protocol == "card-a":
        ins = f"The following are multiple choice questions (with answers) about  {subject.replace('_', ' ')}.\n\n"
        q = ins + row["question"] + "\n" + "".join(f"{k}. {c}\n" for k, c in zip("ABCD", row["choices"])) + "Answer:"
        return Doc(q, [" A", " B", " C", " D"] if fewshot else ["A", "B", "C", "D"], row["answer"], ins)
    if task == "mmlu":
        ins = f"The following are questions about {subject.replace('_', ' ')}.\n"
        return Doc(ins + "Question: " + row["question"] + "\nAnswer:", [f" {c}" for c in row["choices"]], row["answer"], ins)
    raise SystemExit("unknown task " + task)


SETUP = {  # task -> (eval split, few-shot split, sampler) per protocol
    "arc_easy": ("test", "train", {"card-a": "random_sampling_from_train", "card-b": "balanced"}),
    "arc_challenge": ("test", "train", {"card-a": "random_sampling_from_train", "card-b": "balanced"}),
    "openbookqa": ("test", "train", {"card-a": "balanced", "card-b": "balanced"}),
    "piqa": ("validation", "train", {"card-a": "balanced", "card-b": "balanced"}),
    "hellaswag": ("validation", "train", {"card-a": "random_sampling_from_train", "card-b": "random_sampling_from_train"}),
    "winogrande": ("validation", "train", {"card-a": "random_sampling", "card-b": "random_sampling"}),
    "triviaqa": ("validation", "train", {"card-a": "balanced", "card-b": "balanced"}),
}


def select(sampler, k, eval_docs, pool):
    out = [None] * len(eval_docs)
    if k == 0:
        return [[] for _ in eval_docs]

    def drop(samples, doc):
        return [i for i in samples if pool[i].key() != doc.key()][:k]

    if sampler == "sequential":
        return [drop(range(len(pool)), d) for d in eval_docs]
    if sampler == "balanced":
        random.seed(0)
        by = defaultdict(list)
        for i, d in enumerate(pool):
            by[d.target()].append(i)
        counts = defaultdict(list)
        for label, inst in sorted(by.items()):
            counts[len(inst)].append(label)
        labels = []
        for c in sorted(counts, reverse=True):
            ls = counts[c]
            random.shuffle(ls)
            labels.extend(ls)
        chosen, need, it = [], min(len(pool), k + 1), cycle(labels)
        while need > 0:
            lab = next(it, None)
            if not lab:
                break
            if not by[lab]:
                continue
            chosen.append(by[lab].pop(random.randrange(len(by[lab]))))
            need -= 1
        return [drop(chosen, d) for d in eval_docs]
    rnd = random.Random()
    rnd.seed(42)
    order = list(range(len(eval_docs)))
    rnd.shuffle(order)
    n = k if sampler == "random_sampling_from_train" else k + 1
    for d in order:
        out[d] = drop(rnd.sample(range(len(pool)), n), eval_docs[d])
    return out


def context(doc, shots):
    parts = [s.query[len(s.instruction):] + s.target() for s in shots] + [doc.query[len(doc.instruction):]]
    out = doc.instruction + "\n\n".join(parts)
    return "" if out == "\n\n" else out


def requests(task, protocol, data_dir, k):
    rows = []  # (subtask, doc_index, doc, shots, pool)
    if task != "mmlu":
        ev, fs, samplers = SETUP[task]
        eval_docs = [make_doc(task, protocol, r, "", False) for r in load(f"{data_dir}/{task}/{ev}.jsonl")]
        pool = [make_doc(task, protocol, r, "", True) for r in load(f"{data_dir}/{task}/{fs}.jsonl")] if k else []
        sel = select(samplers[protocol], k, eval_docs, pool)
        return [(task, i, d, [pool[j] for j in sel[i]], sel[i]) for i, d in enumerate(eval_docs)]
    import os
    subjects = [s for s in SUBJECTS if os.path.exists(f"{data_dir}/mmlu/{s}/test.jsonl")]
    if protocol == "card-a":
        for s in subjects:
            ev = [make_doc(task, protocol, r, s, False) for r in load(f"{data_dir}/mmlu/{s}/test.jsonl")]
            pool = [make_doc(task, protocol, r, s, True) for r in load(f"{data_dir}/mmlu/{s}/dev.jsonl")] if k else []
            sel = select("sequential", k, ev, pool)
            rows += [(f"mmlu:{s}", i, d, [pool[j] for j in sel[i]], sel[i]) for i, d in enumerate(ev)]
        return rows
    ev, tags = [], []
    for s in subjects:
        for i, r in enumerate(load(f"{data_dir}/mmlu/{s}/test.jsonl")):
            ev.append(make_doc(task, protocol, r, s, False))
            tags.append((f"mmlu:{s}", i))
    pool = ev if k else []
    sel = select("balanced", k, ev, pool)
    return [(tags[i][0], tags[i][1], d, [pool[j] for j in sel[i]], sel[i]) for i, d in enumerate(ev)]


def compare(task, protocol, data_dir, k, rendered):
    expected = []
    for sub, idx, doc, shots, sel in requests(task, protocol, data_dir, k):
        choices = doc.choices[0] if task == "triviaqa" else doc.choices
        expected.append({"task": sub, "doc_index": idx, "query": context(doc, shots), "choices": choices,
                         "gold_index": doc.gold, "fewshot_indices": list(sel)})
    got = load(rendered)
    bad = 0
    if len(got) != len(expected):
        print(f"{len(got)} rendered lines, expected {len(expected)}")
        bad += 1
    for g, e in zip(got, expected):
        if g != e:
            bad += 1
            if bad <= 3:
                for key in e:
                    if g.get(key) != e[key]:
                        print(f"{e['task']} doc {e['doc_index']}: {key}: got {g.get(key)!r} expected {e[key]!r}")
                if set(g) != set(e):
                    print(f"fields {sorted(g)} expected {sorted(e)}")
    print(f"{task} {protocol} k={k}: " + ("OK" if not bad else f"{bad} differences"))
    return bad


def main():
    if sys.argv[1] == "--batch":
        jobs = [line.split() for line in open(sys.argv[2]) if line.strip()]
    else:
        jobs = [sys.argv[1:6]]
    bad = sum(compare(t, p, d, int(k), f) for t, p, d, k, f in jobs)
    sys.exit(1 if bad else 0)


main()
