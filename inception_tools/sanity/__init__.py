"""Sanity checks of saliency maps: model parameter and data randomization (Adebayo et al., 2018)."""
