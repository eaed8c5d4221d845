"""Case 5 of the reference post: ReLU, Y = relu(Z); relu′(0) is taken as 0."""

from _post import write_post

write_post("relu", "Y = relu(Z)", {"Z": ("m", "B")}, node=True,
           title={"en": "ReLU: Y = relu(Z)", "ko": "ReLU: Y = relu(Z)"})
