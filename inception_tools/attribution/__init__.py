"""Saliency methods (Captum-style: one method per module) and the attribution stage."""
