# The demo photos in COCO format (`python -m mmpoolformer.demo` writes
# data/demo/), shared by the detection demo configs. Each inherits it beside
# its full COCO config; mmengine refuses two bases that set the same key, so
# this file sets only keys the full configs lack, and the demo configs build
# their loaders and evaluator from them as `_base_.<key>`.
demo_data_root = 'data/demo/'
metainfo = dict(
    classes=('person', 'chair', 'diningtable', 'bottle', 'animal', 'item'),
    palette=[(220, 20, 60), (0, 130, 200), (255, 180, 0), (60, 180, 75),
             (145, 30, 180), (0, 200, 200)])
input_size = (256, 192)

# What the train and val loaders set beside their pipelines: 36 train images
# (18 iterations an epoch at the full configs' 2 images a batch) and 3 val.
demo_loader = dict(num_workers=0, persistent_workers=False)
demo_train_set = dict(
    data_root=demo_data_root, metainfo=metainfo,
    ann_file='annotations/instances_train.json',
    data_prefix=dict(img='images/train/'))
demo_val_set = dict(
    data_root=demo_data_root, metainfo=metainfo,
    ann_file='annotations/instances_val.json',
    data_prefix=dict(img='images/val/'))
demo_evaluator = dict(
    ann_file=demo_data_root + 'annotations/instances_val.json')
