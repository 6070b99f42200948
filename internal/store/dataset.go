package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Course is one course of the current dataset.
type Course struct {
	ID         string `json:"course_id"`
	Title      string `json:"title"`
	Category   string `json:"category"`
	Mandatory  bool   `json:"mandatory"`
	RecertDays *int64 `json:"recert_days"` // nil = never expires
}

// Division is a division and its units.
type Division struct {
	Division string   `json:"division"`
	Units    []string `json:"units"`
}

// Outline is what a form may ask of the current dataset: its months,
// divisions with their units, courses and course categories.
type Outline struct {
	Version    int        `json:"dataset_version"`
	FirstMonth string     `json:"first_month"`
	LastMonth  string     `json:"last_month"`
	Divisions  []Division `json:"divisions"`
	Courses    []Course   `json:"courses"`
	Categories []string   `json:"categories"`
}

// Outline returns the current dataset's outline, or ErrNoDataset.
func (s *Store) Outline(ctx context.Context) (Outline, error) {
	var o Outline
	names, err := s.Names(ctx)
	if err != nil {
		return o, err
	}
	if o.Version, err = s.CurrentVersionNumber(ctx); err != nil {
		return o, err
	}
	o.FirstMonth, o.LastMonth = names.First.Format("2006-01"), names.Last.Format("2006-01")
	rows, err := s.db.QueryContext(ctx, `SELECT division, list(DISTINCT unit ORDER BY unit) FROM units GROUP BY division ORDER BY division`)
	if err != nil {
		return o, fmt.Errorf("store.Outline: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d Division
		var units []any
		if err := rows.Scan(&d.Division, &units); err != nil {
			return o, fmt.Errorf("store.Outline: %w", err)
		}
		for _, u := range units {
			d.Units = append(d.Units, fmt.Sprint(u))
		}
		o.Divisions = append(o.Divisions, d)
	}
	if err := rows.Err(); err != nil {
		return o, fmt.Errorf("store.Outline: %w", err)
	}
	crs, err := s.db.QueryContext(ctx, `SELECT course_id, title, category, coalesce(mandatory, false), recert_days FROM courses ORDER BY course_id`)
	if err != nil {
		return o, fmt.Errorf("store.Outline: %w", err)
	}
	defer crs.Close()
	for crs.Next() {
		var c Course
		var recert sql.NullInt64
		if err := crs.Scan(&c.ID, &c.Title, &c.Category, &c.Mandatory, &recert); err != nil {
			return o, fmt.Errorf("store.Outline: %w", err)
		}
		if recert.Valid {
			c.RecertDays = &recert.Int64
		}
		o.Courses = append(o.Courses, c)
	}
	if err := crs.Err(); err != nil {
		return o, fmt.Errorf("store.Outline: %w", err)
	}
	if o.Categories, err = s.Categories(ctx); err != nil {
		return o, err
	}
	return o, nil
}
