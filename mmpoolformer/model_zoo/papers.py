"""The papers the metafiles' collections name (``Paper: URL``): venue,
abstract and BibTeX, for the model-zoo pages."""
from typing import Dict

POOLFORMER = 'https://arxiv.org/abs/2111.11418'
METAFORMER_BASELINES = 'https://arxiv.org/abs/2210.13452'

PAPERS: Dict[str, Dict[str, str]] = {
    POOLFORMER: dict(
        venue='CVPR 2022',
        abstract=(
            'Transformers have shown great potential in computer vision '
            'tasks. A common belief is their attention-based token mixer '
            'module contributes most to their competence. However, recent '
            'works show the attention-based module in transformers can be '
            'replaced by spatial MLPs and the resulted models still perform '
            'quite well. Based on this observation, we hypothesize that the '
            'general architecture of the transformers, instead of the '
            'specific token mixer module, is more essential to the '
            "model's performance. To verify this, we deliberately replace "
            'the attention module in transformers with an embarrassingly '
            'simple spatial pooling operator to conduct only basic token '
            'mixing. Surprisingly, we observe that the derived model, termed '
            'as PoolFormer, achieves competitive performance on multiple '
            'computer vision tasks. For example, on ImageNet-1K, PoolFormer '
            'achieves 82.1% top-1 accuracy, surpassing well-tuned vision '
            'transformer/MLP-like baselines DeiT-B/ResMLP-B24 by 0.3%/1.1% '
            'accuracy with 35%/52% fewer parameters and 49%/61% fewer MACs. '
            'The effectiveness of PoolFormer verifies our hypothesis and '
            'urges us to initiate the concept of "MetaFormer", a general '
            'architecture abstracted from transformers without specifying '
            'the token mixer. Based on the extensive experiments, we argue '
            'that MetaFormer is the key player in achieving superior results '
            'for recent transformer and MLP-like models on vision tasks. '
            'This work calls for more future research dedicated to improving '
            'MetaFormer instead of focusing on the token mixer modules. '
            'Additionally, our proposed PoolFormer could serve as a starting '
            'baseline for future MetaFormer architecture design.'),
        bibtex='''@inproceedings{yu2022metaformer,
  title={MetaFormer Is Actually What You Need for Vision},
  author={Yu, Weihao and Luo, Mi and Zhou, Pan and Si, Chenyang and Zhou, Yichen and Wang, Xinchao and Feng, Jiashi and Yan, Shuicheng},
  booktitle={Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)},
  pages={10819--10829},
  year={2022}
}'''),  # noqa: E501
    METAFORMER_BASELINES: dict(
        venue='TPAMI 2024',
        abstract=(
            'MetaFormer, the abstracted architecture of Transformer, has '
            'been found to play a significant role in achieving competitive '
            'performance. In this paper, we further explore the capacity of '
            'MetaFormer, again, without focusing on token mixer design: we '
            'introduce several baseline models under MetaFormer using the '
            'most basic or common mixers, and summarize our observations as '
            'follows: (1) MetaFormer ensures solid lower bound of '
            'performance. By merely adopting identity mapping as the token '
            'mixer, the MetaFormer model, termed IdentityFormer, achieves '
            '>80% accuracy on ImageNet-1K. (2) MetaFormer works well with '
            'arbitrary token mixers. When specifying the token mixer as even '
            'a random matrix to mix tokens, the resulting model RandFormer '
            'yields an accuracy of >81%, outperforming IdentityFormer. Rest '
            "assured of MetaFormer's results when new token mixers are "
            'adopted. (3) MetaFormer effortlessly offers state-of-the-art '
            'results. With just conventional token mixers dated back five '
            'years ago, the models instantiated from MetaFormer already beat '
            'state of the art. (a) ConvFormer outperforms ConvNeXt. Taking '
            'the common depthwise separable convolutions as the token mixer, '
            'the model termed ConvFormer, which can be regarded as pure '
            'CNNs, outperforms the strong CNN model ConvNeXt. (b) CAFormer '
            'sets new record on ImageNet-1K. By simply applying depthwise '
            'separable convolutions as token mixer in the bottom stages and '
            'vanilla self-attention in the top stages, the resulting model '
            'CAFormer sets a new record on ImageNet-1K: it achieves an '
            'accuracy of 85.5% at 224x224 resolution, under normal '
            'supervised training without external data or distillation. In '
            'our expedition to probe MetaFormer, we also find that a new '
            'activation, StarReLU, reduces 71% FLOPs of activation compared '
            'with GELU yet achieves better performance. We expect StarReLU '
            'to find great potential in MetaFormer-like models alongside '
            'other neural networks.'),
        bibtex='''@article{yu2024metaformer,
  title={MetaFormer Baselines for Vision},
  author={Yu, Weihao and Si, Chenyang and Zhou, Pan and Luo, Mi and Zhou, Yichen and Feng, Jiashi and Yan, Shuicheng and Wang, Xinchao},
  journal={IEEE Transactions on Pattern Analysis and Machine Intelligence},
  volume={46},
  number={2},
  pages={896--912},
  year={2024},
  doi={10.1109/TPAMI.2023.3329173}
}'''),  # noqa: E501
}
