package engine

// YAML merge keys (`<<: *defaults`), expanded once before anything reads
// the document.

import (
	"gopkg.in/yaml.v3"
)

// maxAliasValues bounds the values a runbook may build through aliases.
const maxAliasValues = 10000

// mergeKeys expands YAML merge keys in place: `<<: *defaults` (or a list of
// aliases, or a mapping) adds the pairs of the merged mappings that the
// mapping does not set itself, as YAML 1.1 defines them. Done once, before
// anything reads the document, so every later check sees plain pairs; the
// merged pairs keep their positions, so errors point at the anchored text.
func (p *parser) mergeKeys(n *yaml.Node, stack map[*yaml.Node]bool) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			p.mergeKeys(c, stack)
		}
	case yaml.MappingNode:
		if stack[n] {
			return
		}
		stack[n] = true
		defer delete(stack, n)
		var explicit, merges []*yaml.Node
		set := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				merges = append(merges, v)
				continue
			}
			set[k.Value] = true
			explicit = append(explicit, k, v)
			p.mergeKeys(v, stack)
		}
		if len(merges) == 0 {
			return
		}
		out := explicit
		for _, m := range merges {
			var sources []*yaml.Node
			switch m.Kind {
			case yaml.SequenceNode:
				sources = m.Content
			default:
				sources = []*yaml.Node{m}
			}
			for _, src := range sources {
				at := src
				if src.Kind == yaml.AliasNode && src.Alias != nil {
					src = src.Alias
				}
				if src.Kind != yaml.MappingNode {
					p.d.add(pos(at), "<<: expected an alias of a mapping (<<: *defaults) or a list of them, found %s", kindName(src))
					continue
				}
				if stack[src] {
					p.d.add(pos(at), "<<: the merged mapping (anchored at line %d) contains this merge, which would never end", src.Line)
					continue
				}
				p.mergeKeys(src, stack)
				for i := 0; i+1 < len(src.Content); i += 2 {
					k := src.Content[i]
					if set[k.Value] {
						continue
					}
					if p.expanded++; p.expanded > maxAliasValues {
						p.d.add(pos(at), "merge keys expand to more than %d values; write the values out", maxAliasValues)
						n.Content = out
						return
					}
					set[k.Value] = true
					out = append(out, k, src.Content[i+1])
				}
			}
		}
		n.Content = out
	}
}
