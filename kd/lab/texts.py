"""The sentences every front end shows, written once: the pages' introductions and the distillation loss.

The Streamlit app and the Gradio app both show these, so a reworded introduction or formula
reads the same on both. Run statuses are `Lab.run_status`'s, a finished run's card is
kd.lab.card's.
"""

from __future__ import annotations

# The loss kd.losses.distillation_loss computes, in the plain characters both apps' Markdown shows as they are.
KD_LOSS = "Loss = α·T²·KL(softmax(teacher/T) ‖ softmax(student/T)) + (1 − α)·cross-entropy(student, labels)."

DRAW_INTRO = (
    "Draw a digit in the black square: it is cropped, scaled and centred the way MNIST digits were, and the 28×28 "
    "result goes to the teacher and to a student. Once you have drawn, the temperature slider shows both models' "
    "softened answers: the “dark knowledge” about which other digits look similar, which distillation passes on."
)

DISTILL_INTRO = (
    "Pick a temperature, alpha and how the images are mixed, then train a small student from the teacher on a "
    "subset of MNIST. Runs are short and capped because everyone using this server shares its CPUs: one run trains "
    "at a time and the others wait their turn. Finished runs are saved and can be opened in Draw and Metrics."
)

SWEEPS_INTRO = (
    "Each cell of a sweep trains a student from the teacher with one temperature T, one alpha, one data budget and "
    "one seed, and compares it with the **scratch** student (alpha = 0) of the same budget and seed: same initial "
    "weights, same order of the data."
)

# What alpha means once a run mixes its images (kd.train: the mixed labels or the teacher alone, never a blend).
ALPHA_SWITCH = (
    "With mixing, alpha is a switch: **0** trains a scratch student on the mixed labels; **any value above 0** trains "
    "on the teacher's answers alone (the labels play no part), so 0.1 and 1 train the same student."
)
ALPHA_SWITCH_LABEL = "Alpha: a switch with mixing (0 or above 0)"

COMPARE_INTRO = (
    "Pick two or more finished models (your runs and the shipped ones) to lay their training curves over each "
    "other and read their settings side by side: the loss of each epoch and the accuracy on the 10,000 validation "
    "digits (the last 10,000 training images, never trained on) after it."
)
COMPARE_LOSS_NOTE = (
    "A distilled run's loss includes the soft-target term, scaled by T²: compare the shapes of loss curves across "
    "different T and alpha, not their heights. Validation accuracy compares directly."
)
