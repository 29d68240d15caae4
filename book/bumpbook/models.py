"""Small models that use a bump layer inside a network, not alone."""

from __future__ import annotations

import keras

from bumplib.validation import check_count

__all__ = ["make_localized_model"]


def make_localized_model(
    input_dim: int,
    hidden_units: int,
    bump_layer: keras.layers.Layer | None,
    output_units: int = 1,
    activation: str | None = "tanh",
    learning_rate: float = 0.01,
    seed: int = 0,
    steps_per_execution: int = 1,
) -> keras.Sequential:
    """Return ``Input -> Dense(hidden, activation) -> bump_layer -> Dense(output)``, compiled.

    The hidden activation defaults to ``tanh``: its range ``(-1, 1)`` keeps
    every input of the bump layer where the thread's layers are safe (the
    answer's third exercise). A per-feature bump layer then learns one width
    per hidden unit: a learnable, localized activation.

    Args:
        input_dim: Number of input features.
        hidden_units: Width of the hidden ``Dense`` layer, >= 1.
        bump_layer: A fresh bump layer (for example ``StableBumpLayer(per_feature=True)``),
            or ``None`` for the same network without it (a baseline).
        output_units: Width of the output ``Dense`` layer (linear).
        activation: Activation of the hidden layer; ``None`` for a linear one.
        learning_rate: Adam's learning rate.
        seed: Seed of the dense layers' initializers.
        steps_per_execution: Optimizer steps per call into the compiled training
            graph (Keras' ``compile`` argument): the same steps, less Python
            overhead per step.

    The model is compiled with Adam and mean squared error.
    """
    for name, value in (
        ("input_dim", input_dim),
        ("hidden_units", hidden_units),
        ("output_units", output_units),
        ("steps_per_execution", steps_per_execution),
    ):
        check_count(value, name)
    if bump_layer is not None and not isinstance(bump_layer, keras.layers.Layer):
        raise TypeError(f"bump_layer must be a Keras layer, got {type(bump_layer).__name__}.")
    model = keras.Sequential(
        [
            keras.Input(shape=(input_dim,)),
            keras.layers.Dense(
                hidden_units,
                activation=activation,
                kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
                name="hidden",
            ),
            *([] if bump_layer is None else [bump_layer]),
            keras.layers.Dense(
                output_units,
                kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 1),
                name="readout",
            ),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="mse",
        steps_per_execution=steps_per_execution,
    )
    return model
