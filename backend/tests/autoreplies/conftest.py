from tests.delivery.stack import *  # the delivery stack's fixtures, found by name
