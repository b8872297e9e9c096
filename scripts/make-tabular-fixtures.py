#!/usr/bin/python3
"""Builds the tabular model fixtures under test/fixtures/tabular/ with the real tools.

Each fixture is a model directory (as it would sit in model.tar.gz) plus `<name>.expected.json`: the rows the
tests send and the answers of the library that trained the model (scikit-learn's predict/predict_proba,
XGBoost's Booster.predict). The scikit-learn models are written the way skl2onnx writes them
(TreeEnsembleClassifier/Regressor in ai.onnx.ml, ZipMap for probabilities, LabelEncoder for a category
given as text) with onnx.helper, since skl2onnx is not packaged for Debian.

Needs Debian's python3-numpy, python3-sklearn, python3-xgboost and python3-onnx:
    /usr/bin/python3 scripts/make-tabular-fixtures.py
The fixtures are committed, so the tests run without Python.
"""

import json
import math
import os
import pickle
import shutil
import sys
import warnings

import numpy as np
import onnx
import xgboost as xgb
from onnx import TensorProto, helper
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeRegressor

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "tabular")
ML = "ai.onnx.ml"
OPSETS = [helper.make_opsetid("", 15), helper.make_opsetid(ML, 3)]


def fixture_dir(name):
    path = os.path.join(OUT, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def rows_json(rows):
    """Rows as JSON lists, NaN written as null (a missing value)."""
    return [[None if isinstance(v, float) and math.isnan(v) else v for v in row] for row in rows]


def save_expected(path, expected):
    """The answers go beside the model directory, not in it (a model directory's *.json may be the model)."""
    with open(path + ".expected.json", "w") as f:
        json.dump(expected, f, indent=1)


def save_model(path, model):
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(path, "model.onnx"))


def tree_nodes(estimators, leaf_targets):
    """The node attributes of an ai.onnx.ml tree ensemble over fitted scikit-learn trees (as skl2onnx writes them)."""
    attrs = {k: [] for k in ("nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_modes", "nodes_values",
                             "nodes_truenodeids", "nodes_falsenodeids")}
    targets = {"treeids": [], "nodeids": [], "ids": [], "weights": []}
    for t, estimator in enumerate(estimators):
        tree = estimator.tree_
        for node in range(tree.node_count):
            leaf = tree.children_left[node] == -1
            attrs["nodes_treeids"].append(t)
            attrs["nodes_nodeids"].append(node)
            attrs["nodes_featureids"].append(0 if leaf else int(tree.feature[node]))
            attrs["nodes_modes"].append("LEAF" if leaf else "BRANCH_LEQ")
            attrs["nodes_values"].append(0.0 if leaf else float(np.float32(tree.threshold[node])))
            attrs["nodes_truenodeids"].append(0 if leaf else int(tree.children_left[node]))
            attrs["nodes_falsenodeids"].append(0 if leaf else int(tree.children_right[node]))
            if leaf:
                for target, weight in leaf_targets(tree, node):
                    targets["treeids"].append(t)
                    targets["nodeids"].append(node)
                    targets["ids"].append(target)
                    targets["weights"].append(weight)
    return attrs, targets


def forest_classifier_node(forest, labels, inputs, outputs):
    n_trees = len(forest.estimators_)

    def leaf_targets(tree, node):
        counts = tree.value[node][0]
        return [(c, float(counts[c] / counts.sum() / n_trees)) for c in range(len(counts))]

    attrs, targets = tree_nodes(forest.estimators_, leaf_targets)
    label_attr = {"classlabels_strings": labels} if isinstance(labels[0], str) else {"classlabels_int64s": labels}
    return helper.make_node(
        "TreeEnsembleClassifier", inputs, outputs, domain=ML, post_transform="NONE",
        class_treeids=targets["treeids"], class_nodeids=targets["nodeids"], class_ids=targets["ids"],
        class_weights=targets["weights"], **attrs, **label_attr)


def zipmap_type(labels):
    t = onnx.TypeProto()
    t.sequence_type.elem_type.map_type.key_type = TensorProto.STRING if isinstance(labels[0], str) else TensorProto.INT64
    t.sequence_type.elem_type.map_type.value_type.tensor_type.elem_type = TensorProto.FLOAT
    return t


def forests(rng):
    """A random forest over 4 features, 3 classes: with ZipMap, without, and with string labels."""
    x = rng.normal(size=(400, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] + x[:, 2] > 0.5).astype(int)
    forest = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(x, y)
    test = rng.normal(size=(25, 4)).astype(np.float32)
    proba = forest.predict_proba(test)
    names = ["setosa", "versicolor", "virginica"]
    for variant in ("forest-zipmap", "forest-tensor", "forest-strings"):
        labels = names if variant == "forest-strings" else [0, 1, 2]
        features = helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 4])
        label_type = TensorProto.STRING if variant == "forest-strings" else TensorProto.INT64
        label = helper.make_tensor_value_info("label", label_type, [None])
        nodes = [forest_classifier_node(forest, labels, ["input"], ["label", "probabilities"])]
        if variant == "forest-tensor":
            outputs = [label, helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 3])]
        else:
            zip_attr = {"classlabels_strings": labels} if variant == "forest-strings" else {"classlabels_int64s": labels}
            nodes.append(helper.make_node("ZipMap", ["probabilities"], ["output_probability"], domain=ML, **zip_attr))
            outputs = [label, helper.make_value_info("output_probability", zipmap_type(labels))]
        graph = helper.make_graph(nodes, variant.replace("-", "_"), [features], outputs)
        model = helper.make_model(graph, opset_imports=OPSETS, producer_name="sluice-fixtures")
        model.ir_version = 8
        path = fixture_dir(variant)
        save_model(path, model)
        predicted = forest.predict(test)
        save_expected(path, {
            "source": f"scikit-learn {__import__('sklearn').__version__} RandomForestClassifier predict/predict_proba",
            "rows": rows_json(test.tolist()),
            "label": [labels[int(c)] for c in predicted],
            "probabilities": proba.tolist(),
            "classes": [str(label) for label in labels],
        })


def label_encoder_pipeline(rng):
    """A category given as text (LabelEncoder → float code) beside two numbers, into a decision tree."""
    categories = ["red", "green", "blue", "ünïcode, \"quoted\""]
    n = 500
    codes = rng.integers(0, len(categories), size=n)
    numbers = rng.normal(size=(n, 2)).astype(np.float32)
    target = codes * 1.5 + numbers[:, 0] - numbers[:, 1] * 0.5
    encoded = np.column_stack([codes.astype(np.float32), numbers])
    tree = DecisionTreeRegressor(max_depth=5, random_state=0).fit(encoded, target)

    def leaf_targets(t, node):
        return [(0, float(t.value[node][0][0]))]

    attrs, targets = tree_nodes([tree], leaf_targets)
    nodes = [
        helper.make_node("LabelEncoder", ["cat"], ["cat_code"], domain=ML, keys_strings=categories,
                         values_floats=[float(i) for i in range(len(categories))], default_float=-1.0),
        helper.make_node("Concat", ["cat_code", "num"], ["encoded"], axis=1),
        helper.make_node("TreeEnsembleRegressor", ["encoded"], ["variable"], domain=ML, n_targets=1,
                         target_treeids=targets["treeids"], target_nodeids=targets["nodeids"],
                         target_ids=targets["ids"], target_weights=targets["weights"], **attrs),
    ]
    graph = helper.make_graph(
        nodes, "label_encoder_pipeline",
        [helper.make_tensor_value_info("cat", TensorProto.STRING, [None, 1]),
         helper.make_tensor_value_info("num", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])])
    model = helper.make_model(graph, opset_imports=OPSETS, producer_name="sluice-fixtures")
    model.ir_version = 8
    path = fixture_dir("label-encoder")
    save_model(path, model)
    test_codes = rng.integers(0, len(categories), size=20)
    test_numbers = rng.normal(size=(20, 2)).astype(np.float32)
    test_numbers[3, 1] = np.nan  # a missing value: the tree routes it as ONNX Runtime does (a branch's false side)
    expected = tree.predict(np.column_stack([test_codes.astype(np.float32), np.nan_to_num(test_numbers, nan=1e30)]))
    save_expected(path, {
        "source": f"scikit-learn {__import__('sklearn').__version__} DecisionTreeRegressor.predict on ordinal codes",
        "rows": [[categories[c], *rows_json([nums.tolist()])[0]] for c, nums in zip(test_codes, test_numbers)],
        "variable": expected.tolist(),
    })


XGBOOST_CASES = [
    # objective, extra parameters, file name, format
    ("binary:logistic", {}, "xgboost-model", "json"),
    ("reg:squarederror", {"base_score": 0.3}, "xgboost-model", "ubj"),
    ("reg:logistic", {}, "model.json", "json"),
    ("multi:softprob", {"num_class": 3}, "model.ubj", "ubj"),
    ("multi:softmax", {"num_class": 3}, "model.json", "json"),
    # Each objective's base score means something else: a margin, a probability, a mean under a log link.
    ("binary:logitraw", {"base_score": 0.3}, "xgboost-model", "json"),
    ("binary:hinge", {}, "xgboost-model", "json"),
    ("count:poisson", {"base_score": 2.0}, "xgboost-model", "json"),
    ("reg:gamma", {}, "xgboost-model", "ubj"),
    ("reg:tweedie", {"tweedie_variance_power": 1.3}, "xgboost-model", "json"),
    ("reg:absoluteerror", {}, "xgboost-model", "json"),
    ("reg:pseudohubererror", {}, "xgboost-model", "json"),
    ("reg:squaredlogerror", {}, "xgboost-model", "json"),
    ("survival:cox", {}, "xgboost-model", "json"),
    ("survival:aft", {"aft_loss_distribution": "logistic"}, "xgboost-model", "json"),
    ("rank:pairwise", {}, "xgboost-model", "json"),
    ("rank:ndcg", {}, "xgboost-model", "json"),
    ("rank:map", {"base_score": 0.2}, "xgboost-model", "json"),
    # XGBoost's binary format, which save_model wrote before 2.0 for a name without .json or .ubj, as
    # SageMaker's XGBoost containers name the file; and DART, whose trees carry weights.
    ("binary:logistic", {}, "xgboost-model", "deprecated"),
    ("multi:softprob", {"num_class": 3}, "xgboost-model", "deprecated"),
    ("count:poisson", {}, "xgboost-model", "deprecated"),
    ("reg:squarederror", {"booster": "dart", "rate_drop": 0.3}, "xgboost-model", "json"),
    ("reg:squarederror", {"booster": "dart", "rate_drop": 0.3}, "xgboost-model", "deprecated"),
    # gamma prunes: the trees keep the nodes it deleted, unreachable, marked in the binary format.
    ("reg:squarederror", {"gamma": 5, "max_depth": 5}, "xgboost-model", "deprecated"),
    # Several targets, a tree for each per round ("targets" is the fixture's, not a parameter of XGBoost).
    ("reg:squarederror", {"targets": 3, "tree_method": "hist"}, "xgboost-model", "json"),
    ("binary:logistic", {"targets": 3, "tree_method": "hist"}, "xgboost-model", "deprecated"),
    # Early stopping: the model keeps trees past the best round, and its best_ntree_limit attribute says
    # which to predict with ("early_stopping" is the fixture's: rounds without improvement on held-out rows).
    ("binary:logistic", {"early_stopping": 5}, "xgboost-model", "deprecated"),
    ("multi:softprob", {"num_class": 3, "num_parallel_tree": 2, "early_stopping": 5}, "xgboost-model", "json"),
]


def fixture_name(objective, extra, fmt):
    """xgb-<objective>, with -dart for DART, -pruned for gamma, -N-targets and -binary for the binary format."""
    return "-".join(["xgb", objective.replace(":", "-")]
                    + (["dart"] if extra.get("booster") == "dart" else [])
                    + (["pruned"] if "gamma" in extra else [])
                    + ([f"{extra['targets']}-targets"] if "targets" in extra else [])
                    + (["early-stopped"] if "early_stopping" in extra else [])
                    + (["binary"] if fmt == "deprecated" else []))


def training_matrix(objective, targets, x, clean):
    """What each objective trains on: its own kind of label (counts, positive amounts, survival times, ranks)."""
    if targets > 1:
        values = np.stack([clean[:, 0] * 2, clean[:, 1] - clean[:, 2], clean[:, 3] + clean[:, 4]], 1)[:, :targets]
        return xgb.DMatrix(x, label=(values > 0).astype(float) if objective == "binary:logistic" else values)
    binary = (clean[:, 0] + clean[:, 1] * 0.5 > 0).astype(float)
    classes = (clean[:, 0] > 0.3).astype(int) + (clean[:, 4] > 0).astype(int)
    amount = np.exp(clean[:, 1] * 0.4 + clean[:, 0] * 0.2)
    if objective == "survival:aft":
        matrix = xgb.DMatrix(x)
        matrix.set_float_info("label_lower_bound", amount)
        matrix.set_float_info("label_upper_bound", np.where(clean[:, 2] > 0, amount, np.inf))
        return matrix
    labels = {
        "binary:logistic": binary,
        "binary:logitraw": binary,
        "binary:hinge": binary,
        "reg:squarederror": clean[:, 2] * 2 - clean[:, 3],
        "reg:absoluteerror": clean[:, 2] * 2 - clean[:, 3],
        "reg:pseudohubererror": clean[:, 2] * 2 - clean[:, 3],
        "reg:squaredlogerror": np.abs(clean[:, 2]) * 2,
        "reg:logistic": (clean[:, 0] > 0) * 0.8 + 0.1,
        "multi:softprob": classes,
        "multi:softmax": classes,
        "count:poisson": np.round(amount * 2),
        "reg:gamma": amount,
        "reg:tweedie": np.where(clean[:, 3] > 0.2, amount, 0),
        # Negative: censored at that time.
        "survival:cox": np.where(clean[:, 2] > -0.5, amount, -amount),
        "rank:pairwise": classes,
        "rank:ndcg": classes,
        "rank:map": binary,
    }
    matrix = xgb.DMatrix(x, label=labels[objective])
    if objective.startswith("rank:"):
        matrix.set_group([len(x) // 4] * 4)
    return matrix


def predict_as_sagemaker(booster, rows):
    """Booster.predict as SageMaker's XGBoost container calls it (serve_utils.predict): with
    ntree_limit=best_ntree_limit, which XGBoost 1.x's xgb.train records (the best round when it stopped early)."""
    return booster.predict(xgb.DMatrix(rows), ntree_limit=getattr(booster, "best_ntree_limit", 0))


def kfold_models(x, clean, test):
    """What SageMaker's XGBoost saves for `_kfold`: a booster per fold, xgboost-model-0 … -2 (binary format),
    which its container serves together: the mean of their predictions, or for multi:softmax and
    binary:hinge the most common answer (scipy.stats.mode: the smallest on a tie)."""
    for objective, extra in [("binary:logistic", {}), ("multi:softmax", {"num_class": 3}), ("binary:hinge", {})]:
        path = fixture_dir("xgb-" + objective.replace(":", "-") + "-3-folds")
        folds = []
        for fold in range(3):
            rows = np.arange(len(x)) % 3 != fold
            # Weak, subsampled learners, so that the folds disagree (and multi:softmax's sometimes three ways).
            params = {"objective": objective, "max_depth": 1, "eta": 0.3, "subsample": 0.5, "seed": fold, **extra}
            booster = xgb.train(params, training_matrix(objective, 1, x[rows], clean[rows]), num_boost_round=3)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                raw = booster.save_raw(raw_format="deprecated")
            with open(os.path.join(path, f"xgboost-model-{fold}"), "wb") as f:
                f.write(raw)
            folds.append(predict_as_sagemaker(booster, test).reshape(len(test), -1))
        if objective in ("multi:softmax", "binary:hinge"):
            answers = np.stack(folds).astype(int)[:, :, 0]
            depth = extra.get("num_class", 2)
            votes = np.stack([np.bincount(answers[:, row], minlength=depth) for row in range(len(test))])
            predictions = votes.argmax(axis=1).astype(float).reshape(-1, 1)
        else:
            predictions = np.mean(folds, axis=0)
        save_expected(path, {
            "source": f"xgboost {xgb.__version__} Booster.predict of 3 folds, combined as SageMaker's container does",
            "file": "xgboost-model-0",
            "folds": [f"xgboost-model-{fold}" for fold in range(3)],
            "rows": rows_json(test.tolist()),
            "predictions": predictions.tolist(),
        })


def xgboost_models(rng):
    """Boosters trained on rows with missing values, saved as SageMaker's XGBoost does and as .json/.ubj."""
    n = 400
    x = rng.normal(size=(n, 6)).astype(np.float32)
    x[rng.random(x.shape) < 0.15] = np.nan
    clean = np.nan_to_num(x)
    test = rng.normal(size=(30, 6)).astype(np.float32)
    test[rng.random(test.shape) < 0.2] = np.nan
    test[0, :] = np.nan  # a row of nothing but missing values
    for objective, extra, file_name, fmt in XGBOOST_CASES:
        params = {"objective": objective, "max_depth": 3, "eta": 0.3, "seed": 0, **extra}
        targets = params.pop("targets", 1)
        early_stopping = params.pop("early_stopping", None)
        if early_stopping is None:
            booster = xgb.train(params, training_matrix(objective, targets, x, clean), num_boost_round=12)
        else:
            train, held_out = training_matrix(objective, targets, x[:300], clean[:300]), \
                training_matrix(objective, targets, x[300:], clean[300:])
            booster = xgb.train(params, train, num_boost_round=200, evals=[(held_out, "validation")],
                                early_stopping_rounds=early_stopping, verbose_eval=False)
            assert booster.best_ntree_limit < booster.num_boosted_rounds() * params.get("num_parallel_tree", 1)
        path = fixture_dir(fixture_name(objective, extra, fmt))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the binary format's deprecation
            raw = booster.save_raw(raw_format=fmt)
        with open(os.path.join(path, file_name), "wb") as f:
            f.write(raw)
        predictions = predict_as_sagemaker(booster, test)
        save_expected(path, {
            "source": f"xgboost {xgb.__version__} Booster.predict ({objective}, ntree_limit=best_ntree_limit)",
            "file": file_name,
            "rows": rows_json(test.tolist()),
            "predictions": predictions.reshape(len(test), -1).tolist(),
        })
    kfold_models(x, clean, test)
    # An objective Sluice does not convert (XGBoost 2's quantile regression, named in a 1.7 booster, since
    # Debian's XGBoost 1.7 has none it cannot), and a pickled booster (as SageMaker's XGBoost 0.90 saved
    # models), which Sluice refuses with a way out.
    booster = xgb.train({"objective": "count:poisson", "max_depth": 2}, xgb.DMatrix(x, label=np.abs(clean[:, 0])), 3)
    model = json.loads(booster.save_raw(raw_format="json"))
    model["learner"]["objective"] = {"name": "reg:quantileerror", "quantile_loss_param": {"quantile_alpha": "[0.5]"}}
    path = fixture_dir("xgb-unsupported-objective")
    with open(os.path.join(path, "xgboost-model"), "w") as f:
        json.dump(model, f, separators=(",", ":"))
    path = fixture_dir("xgb-pickle")
    with open(os.path.join(path, "xgboost-model"), "wb") as f:
        pickle.dump(booster, f, protocol=2)


def main():
    rng = np.random.default_rng(20261128)
    forests(rng)
    label_encoder_pipeline(rng)
    xgboost_models(rng)
    print(f"fixtures written to {os.path.normpath(OUT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
